"""Edges found in review: each is a request a client can really send."""

from __future__ import annotations

import time

import boto3
import pytest

from local.provision import physical_name
from tests.support import MAILGUN_KEY, mailgun_event, mailgun_payload, mailgun_signature, token

WRITER = token(rights=["messages:write"])


def test_a_narrow_right_does_not_open_messages_it_lists_no_recipient_of(api):
    message_id = api.record(recipients=[{"address": "kid@example.com", "role": "student"}], body={"text": "private"})
    reply = api.get(f"/v1/messages/{message_id}", auth=token(rights=["logs:email:staff"]))
    assert reply.status == 404 and "private" not in reply.raw.decode()
    assert api.get(f"/v1/messages/{message_id}", auth=token(rights=["logs:email:family"])).status == 200


def test_writers_stay_inside_their_org_units(api):
    scoped = token(rights=["messages:write"], org_units=("school-2",))
    outside = api.post("/v1/messages", {"channel": "email", "org_unit": "school-1",
                                        "recipients": [{"address": "a@example.com"}]}, auth=scoped)
    assert outside.status == 403 and outside.fields == ["org_unit"]
    message_id = api.record(org_unit="school-1", recipients=[{"address": "a@example.com", "name": "Kept"}])
    reply = api.post(f"/v1/messages/{message_id}/recipients", {"recipients": [{"address": "a@example.com",
                                                                               "name": "Overwritten"}]}, auth=scoped)
    assert reply.status == 404
    assert api.get("/v1/recipients/a@example.com/messages").json["items"][0]["name"] == "Kept"


@pytest.mark.parametrize(
    "raw,field",
    [
        (
            b'{"channel": "email", "recipients": [{"address": "a@example.com", "fields": {"x": NaN}}]}',
            "recipients[0].fields.x",
        ),
        (
            b'{"channel": "email", "recipients": [{"address": "a@example.com", "fields": {"x": 1e300}}]}',
            "recipients[0].fields.x",
        ),
        (b'{"channel": "email", "created_at": "0001-01-01T00:00:00+01:00"}', "created_at"),
        (b'{"channel": "email", "created_at": "1960-01-01T00:00:00Z"}', "created_at"),
        (
            b'{"channel": "email", "recipients": [{"address": "a@example.com", "fields": {"x": "'
            + b"y" * 1001
            + b'"}}]}',
            "recipients[0].fields.x",
        ),
    ],
)
def test_values_dynamodb_cannot_store_are_400_before_any_write(api, raw, field):
    many = raw.replace(b'"recipients": [', b'"recipients": [' + b"".join(
        b'{"address": "p%d@example.com"}, ' % n for n in range(30)))
    reply = api.post("/v1/messages", raw=many, auth=WRITER)
    assert reply.status == 400, reply.raw
    assert any(f.startswith(field.split("[0]")[0]) for f in reply.fields), reply.json
    assert api.get("/v1/recipients/p1@example.com/messages").json["items"] == []


@pytest.mark.parametrize("query", ["to=9999-12-31T23:00:00-02:00", "from=0001-01-01T00:00:00%2B01:00"])
def test_out_of_range_times_in_queries_are_400(api, query):
    for path in ("/v1/events", "/v1/messages", "/v1/recipients/a@example.com/messages"):
        reply = api.get(f"{path}?{query}")
        assert reply.status == 400 and reply.fields in (["to"], ["from"]), (path, reply.json)


def test_hostile_webhook_bodies_are_4xx(api):
    api.setup_tenant("acme")
    signature = {**mailgun_signature(MAILGUN_KEY), "signature": "é" * 64}
    reply = api.post("/v1/webhooks/mailgun/acme", {"signature": signature, "event-data": mailgun_event("delivered")},
                     auth=None)
    assert reply.status == 401
    deep = b"[" * 100_000 + b"]" * 100_000
    assert api.post("/v1/webhooks/mailgun/acme", raw=deep, auth=None).status == 406  # Mailgun: do not retry
    assert api.post("/v1/messages", raw=deep, auth=WRITER).status == 400


def test_provider_ids_with_angle_brackets_link(api):
    api.setup_tenant("acme")
    message_id = api.record(recipients=[{"address": "a@example.com", "provider_message_id": "<20261123.1@mg.example>"}])
    reply = api.mailgun(mailgun_event("delivered", "a@example.com", provider_message_id="20261123.1@mg.example"))
    assert reply.json["events"][0]["message_id"] == message_id




@pytest.mark.parametrize("max_age,kept_for_ever", [("0", True), ("300", False)])
def test_tokens_are_remembered_as_long_as_their_signature_is_accepted(api_with, max_age, kept_for_ever):
    api = api_with(WEBHOOK_MAX_AGE_SECONDS=max_age)
    api.setup_tenant("acme")
    signature = mailgun_signature(MAILGUN_KEY)
    api.post("/v1/webhooks/mailgun/acme", {"signature": signature, "event-data": mailgun_event("delivered")}, auth=None)
    # the replay guard is the request's ingestion-log row since issue 21: the one that carries a digest
    [item] = boto3.client("dynamodb").scan(TableName=physical_name("Table"),
                                           FilterExpression="attribute_exists(digest)")["Items"]
    if kept_for_ever:
        assert "expires_at" not in item
    else:
        assert int(item["expires_at"]["N"]) >= time.time() + 86_000
    forged = {"signature": signature, "event-data": mailgun_event("complained")}
    assert api.post("/v1/webhooks/mailgun/acme", mailgun_payload(mailgun_event("x")) | forged, auth=None).status == 406
