"""Issue 20, items 4-8: the trust boundary around claims, the tenant's own logs, cursors, export links
and request bodies (docs/decisions.md, "Trust: claims, records, cursors and links (issue 20)")."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from tests.support import token

WRITER = token(rights=["events:write"], sub="saas-backend")


def readable(cursor):
    """Whatever can be read out of a cursor without a key: its text, and the base64url decoding of
    each of its dot-separated parts."""
    found = [cursor]
    for part in cursor.split("."):
        with contextlib.suppress(ValueError, binascii.Error):
            found.append(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode("utf-8", "replace"))
    return "\n".join(found)


def iso(at):
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ 4. claims read one way only
@pytest.mark.parametrize("rights", [["logs:sent admin"], ["logs:sent,admin"], ["[admin]"], ['"admin"']])
def test_a_right_that_could_be_read_two_ways_is_a_401_not_admin(api, rights):
    reply = api.get("/v1/tenant", auth=token(rights=rights))
    assert reply.status == 401 and reply.headers["content-type"] == "application/problem+json"
    assert api.get("/v1/messages", auth=token(rights=rights)).status == 401


def test_org_units_that_could_be_read_two_ways_are_a_401_not_a_wider_scope(api):
    api.record(subject="East news", org_unit="east")
    api.record(subject="West news", org_unit="west")
    for units in (["east *"], ["east", "*"], ["a,b"], ["east west"], ["east\twest"], [""], ["x" * 65]):
        reply = api.get("/v1/messages", auth=token(rights=["logs:sent"], org_units=units))
        assert reply.status == 401, (units, reply.json)
    both = api.get("/v1/messages", auth=token(rights=["logs:sent"], org_units=["east", "west"])).json["items"]
    assert sorted(m["subject"] for m in both) == ["East news", "West news"]
    east = api.get("/v1/messages", auth=token(rights=["logs:sent"], org_units=["east"])).json["items"]
    assert [m["subject"] for m in east] == ["East news"]


def test_a_tenant_id_with_a_trailing_newline_is_a_401_not_a_second_tenant(api):
    for tenant in ("acme\n", "acme\r\n"):
        assert api.get("/v1/tenant", auth=token(tenant=tenant)).status == 401
        assert api.post("/v1/messages", {"channel": "email", "recipients": [{"address": "pat@example.com"}]},
                        auth=token(tenant=tenant, rights=["messages:write"])).status == 401
    assert api.get("/v1/messages").json["items"] == []  # and nothing landed in acme either


# ------------------------------------------------------------------ 5. the service's entries are its own
def test_clients_cannot_post_entries_that_read_as_the_services_own(api):
    recent = iso(datetime.now(UTC) - timedelta(minutes=5))
    for path in ("/v1/audit", "/v1/activity"):
        for action in ("provider.credentials_changed", "Provider:credentials_changed", "tenant.settings_changed",
                       "suppression.reset", "ｐｒｏｖｉｄｅｒ.credentials_changed"):
            reply = api.post(path, {"action": action, "entity": "provider:mailgun", "at": recent}, auth=WRITER)
            assert (reply.status, reply.fields) == (400, ["action"]), (path, action)
    assert api.get("/v1/audit").json["items"] == [] and api.get("/v1/activity").json["items"] == []
    assert api.post("/v1/audit", {"action": "contract.signed", "at": recent}, auth=WRITER).status == 201


def test_a_clients_audit_entry_is_dated_within_the_last_day(api):
    now = datetime.now(UTC)
    for at in (now - timedelta(days=2), now - timedelta(hours=24, minutes=1), now + timedelta(minutes=10)):
        reply = api.post("/v1/audit", {"action": "student.updated", "at": iso(at)}, auth=WRITER)
        assert (reply.status, reply.fields) == (400, ["at"]), at
    assert api.get("/v1/audit").json["items"] == []
    for at in (now - timedelta(hours=23), now + timedelta(minutes=1)):
        assert api.post("/v1/audit", {"action": "student.updated", "at": iso(at)}, auth=WRITER).status == 201
    assert api.post("/v1/audit", {"action": "student.updated"}, auth=WRITER).status == 201  # now


def test_every_entry_says_who_wrote_it(api):
    api.call("PUT", "/v1/providers/mailgun", {"signing_key": "key-rotated-0001"})
    api.post("/v1/audit", {"action": "student.updated", "entity": "student:S9"}, auth=WRITER)
    api.post("/v1/activity", {"action": "e-mail submitted", "entity": "family:F1"}, auth=WRITER)
    api.post("/v1/logins", {"status": "success", "user": {"id": "ann"}}, auth=WRITER)
    audit = api.get("/v1/audit?order=asc").json["items"]
    assert [(r["action"], r["source"]) for r in audit] == [("provider.credentials_changed", "service"),
                                                           ("student.updated", "caller:saas-backend")]
    assert [r["source"] for r in api.get("/v1/activity").json["items"]] == ["caller:saas-backend"]
    assert [r["source"] for r in api.get("/v1/logins").json["items"]] == ["caller:saas-backend"]
    assert {r["source"] for r in api.get("/v1/api-log").json["items"]} == {"service"}


# ------------------------------------------------------------------ 6. opaque cursors
def test_a_cursor_never_holds_a_key_the_caller_may_not_see(api):
    """A page that stops at its examined-items budget (500) resumes after the last item it examined:
    here another org unit's recipient, whose address the east-only caller must not learn."""
    api.record(subject="West", org_unit="west", recipients=[
        {"address": f"hidden-{n}@west.example", "family_id": "F1", "role": "guardian"} for n in range(502)])
    api.record(subject="East", org_unit="east",
               recipients=[{"address": "seen@east.example", "family_id": "F1", "role": "guardian"}])
    east = token(rights=["logs:recipient:any-sender", "people:all"], org_units=["east"])
    first = api.get("/v1/recipients/family:F1/messages?limit=5", auth=east).json
    assert [r["address"] for r in first["items"]] == ["seen@east.example"] and first["examined"] == 500
    cursor = first["next_cursor"]
    text = readable(cursor)
    for secret in ("hidden", "west", "acme", "family"):  # long enough not to turn up in random bytes
        assert secret not in text, secret
    rest = api.get(f"/v1/recipients/family:F1/messages?limit=5&cursor={cursor}", auth=east).json
    assert rest["items"] == [] and rest["next_cursor"] is None


def test_cursors_are_opaque_and_open_across_a_key_rotation(api):
    ids = [api.record(subject=f"S{n}") for n in range(4)]
    old = api.get("/v1/messages?limit=1").json["next_cursor"]
    assert not any(secret in readable(old) for secret in ("acme", "T#", ids[3], ids[2], "sent"))
    from msglog import cursor

    secrets = boto3.client("secretsmanager")
    secret_id = os.environ["CURSOR_SECRET_ID"]
    previous = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps({"current": "new-key-0002",
                                                                         "previous": [previous]}))
    cursor.reset()  # the five minutes a container keeps the keys are over
    page = api.get(f"/v1/messages?limit=1&cursor={old}").json
    assert [m["message_id"] for m in page["items"]] == [ids[2]]
    fresh = page["next_cursor"]
    assert api.get(f"/v1/messages?limit=1&cursor={fresh}").json["items"][0]["message_id"] == ids[1]
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps({"current": "new-key-0002"}))
    cursor.reset()
    assert api.get(f"/v1/messages?limit=1&cursor={old}").fields == ["cursor"]  # the retired key's cursor
    assert api.get(f"/v1/messages?limit=1&cursor={fresh}").status == 200
    flipped = fresh[:10] + ("A" if fresh[10] != "A" else "B") + fresh[11:]
    assert api.get(f"/v1/messages?limit=1&cursor={flipped}").fields == ["cursor"]


# ------------------------------------------------------------------ 7. export links
def test_an_export_link_is_short_and_only_for_the_rights_the_file_was_made_with(api):
    for n in range(3):
        api.record(subject=f"S{n}", org_unit=f"school-{n % 2}")
    teacher = {"sub": "u-teacher", "rights": ["logs:sent", "messages:write"], "org_units": ("school-0", "school-1")}
    href = api.get("/v1/messages?format=csv&async=true", auth=token(**teacher)).json["href"]
    api.pump()
    job = api.get(href, auth=token(**teacher)).json
    assert job["status"] == "done" and job["url"]
    assert int(parse_qs(urlsplit(job["url"]).query)["X-Amz-Expires"][0]) <= 300
    lost_right = api.get(href, auth=token(**{**teacher, "rights": ["messages:write"]}))
    assert lost_right.status == 403 and "url" not in lost_right.json
    narrower = api.get(href, auth=token(**{**teacher, "org_units": ("school-0",)}))
    assert narrower.status == 404 and "url" not in narrower.json
    assert api.get(href, auth=token(**{**teacher, "rights": ["logs:sent"]})).json["url"]  # a write right shapes no file
    assert api.get(href, auth=token(**{**teacher, "rights": ["admin"], "org_units": ("*",)})).json["url"]


# ------------------------------------------------------------------ 8. bodies are objects
def test_a_body_that_is_not_a_json_object_is_a_400_naming_the_body(api):
    writer = token(rights=["messages:write", "events:write", "admin"])
    for raw in (b'[{"channel": "email", "recipients": [{"address": "pat@example.com"}]}]',
                b' \n[{"action": "student.updated"}]', b'[{"privacy_mode": true}]', b'"email"', b"1", b"true"):
        for method, path in (("POST", "/v1/messages"), ("POST", "/v1/audit"), ("PATCH", "/v1/tenant")):
            reply = api.call(method, path, raw=raw, auth=writer)
            assert (reply.status, reply.fields) == (400, ["body"]), (path, raw, reply.json)
    assert api.get("/v1/messages").json["items"] == [] and api.get("/v1/audit").json["items"] == []
