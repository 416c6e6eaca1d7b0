"""Whatever a client sends, the answer is a 2xx or a clear 4xx — never a 500, never half a record."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import mailgun_event, mailgun_payload, token

FUZZ = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
documents = st.recursive(scalars, lambda children: st.lists(children, max_size=4) |
                         st.dictionaries(st.text(max_size=12), children, max_size=5), max_leaves=12)


def ready(api):
    if not getattr(api, "_ready", False):
        api.setup_tenant("acme")
        api._message_id = api.record()
        api._ready = True
    return api


@FUZZ
@given(raw=st.binary(max_size=300))
def test_random_bytes_to_the_webhook(api, raw):
    reply = ready(api).post("/v1/webhooks/mailgun/acme", raw=raw, auth=None)
    assert reply.status in (406, 401), (raw, reply.raw)  # 406: Mailgun's "do not retry"


@FUZZ
@given(document=documents)
def test_random_json_to_the_webhook(api, document):
    reply = ready(api).post("/v1/webhooks/mailgun/acme", document, auth=None)
    assert reply.status in (406, 401), (document, reply.raw)


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(["event", "id", "timestamp", "recipient", "message", "user-variables",
                                                "delivery-status", "severity", "reason"]), documents, max_size=4))
def test_signed_webhooks_with_fuzzed_event_data(api, changes):
    api = ready(api)
    data = {**mailgun_event("delivered", message_id=api._message_id), **changes}
    reply = api.post("/v1/webhooks/mailgun/acme", mailgun_payload(data), auth=None)
    assert reply.status in (200, 406), (changes, reply.raw)
    if reply.status == 406:
        assert reply.headers["content-type"] == "application/problem+json" and reply.json["errors"]


@FUZZ
@given(document=documents)
def test_random_json_to_record_a_message(api, document):
    api = ready(api)
    before = api.get("/v1/messages?limit=200").json["items"]
    reply = api.post("/v1/messages", document, auth=token(rights=["messages:write"]))
    assert reply.status in (201, 400), (document, reply.raw)
    if reply.status == 400:
        assert api.get("/v1/messages?limit=200").json["items"] == before


@FUZZ
@given(message=st.fixed_dictionaries({"channel": st.sampled_from(["email", "sms", "push"])}, optional={
    "subject": documents, "category": documents, "org_unit": documents, "sender": documents, "body": documents,
    "created_at": documents, "recipients": st.lists(st.dictionaries(
        st.sampled_from(["address", "person_id", "role", "fields", "provider_message_id"]), documents), max_size=3)}))
def test_near_valid_messages(api, message):
    api = ready(api)
    reply = api.post("/v1/messages", message, auth=token(rights=["messages:write"]))
    assert reply.status in (201, 400), (json.dumps(message), reply.raw)
