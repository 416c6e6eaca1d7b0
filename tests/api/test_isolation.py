"""Tenant isolation: nothing a request sends reaches another tenant's data."""

from __future__ import annotations

import jwt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.apigw import mint_token
from tests.support import mailgun_event, mailgun_payload, token

VICTIM = token("victim")
ATTACKER = token("attacker")
MARKER = "victim-secret-subject"


def plant(api):
    """The victim tenant's data: a message with a body, an event, a cursor."""
    api.setup_tenant("victim")
    api.setup_tenant("attacker", signing_key="key-attacker-0000")
    message_id = api.record("victim", subject=MARKER, body={"text": MARKER},
                            recipients=[{"address": "shared@example.com", "person_id": "P1", "family_id": "F1"},
                                        {"address": "other@example.com"}])
    api.mailgun(
        mailgun_event("delivered", "shared@example.com", message_id=message_id, subject=MARKER), tenant="victim"
    )
    cursor = api.get("/v1/messages?limit=1", auth=VICTIM).json["next_cursor"]
    return message_id, cursor


def test_another_tenant_sees_nothing(api):
    message_id, cursor = plant(api)
    assert api.get(f"/v1/messages/{message_id}", auth=ATTACKER).status == 404
    for path in ["/v1/messages", "/v1/events", "/v1/recipients/shared@example.com/messages",
                 "/v1/recipients/person:P1/messages", "/v1/recipients/family:F1/messages",
                 f"/v1/events?message_id={message_id}", "/v1/events?recipient=shared@example.com"]:
        reply = api.get(path, auth=ATTACKER)
        assert reply.status == 200 and reply.json["items"] == [], path
    assert api.get(f"/v1/messages?limit=1&cursor={cursor}", auth=ATTACKER).fields == ["cursor"]
    assert api.post(f"/v1/messages/{message_id}/recipients", {"recipients": [{"address": "x@example.com"}]},
                    auth=token("attacker", ["messages:write"])).status == 404
    assert api.get("/v1/tenant", auth=ATTACKER).json["providers"]["mailgun"]["keys"] == 1


def test_webhooks_cannot_cross_tenants(api):
    message_id, _ = plant(api)
    # The attacker's own valid signature, aimed at the victim's message: it lands in the attacker's tenant only.
    data = mailgun_event("complained", "shared@example.com", message_id=message_id)
    reply = api.post("/v1/webhooks/mailgun/attacker", mailgun_payload(data, key="key-attacker-0000"), auth=None)
    assert reply.status == 200 and reply.json["outcomes"] == {"NOLOG_UNMATCHED": 1}
    # Signed with the attacker's key but posted to the victim's URL: refused.
    assert (
        api.post("/v1/webhooks/mailgun/victim", mailgun_payload(data, key="key-attacker-0000"), auth=None).status == 401
    )
    status = api.get("/v1/recipients/shared@example.com/messages", auth=VICTIM).json["items"][0]["status"]
    assert status == "delivered"
    assert api.get("/v1/events", auth=ATTACKER).json["items"][0]["message_id"] is None


def test_forged_or_incomplete_tokens_are_refused(api):
    plant(api)
    forged = jwt.encode({"sub": "x", "tenant_id": "victim", "rights": ["admin"], "exp": 4102444800}, "guessed-secret",
                        algorithm="HS256")
    assert api.get("/v1/messages", auth=forged).status == 401
    expired = mint_token({"sub": "x", "tenant_id": "victim", "rights": ["admin"]}, ttl_seconds=-10)
    assert api.get("/v1/messages", auth=expired).status == 401
    for claims in [{"sub": "x", "rights": ["admin"]}, {"sub": "x", "tenant_id": "victim#M", "rights": ["admin"]},
                   {"sub": "x", "tenant_id": "*", "rights": ["admin"]}, {"tenant_id": "victim", "rights": ["admin"]}]:
        reply = api.get("/v1/messages", auth=mint_token(claims))
        assert reply.status == 401, claims
        assert reply.headers["content-type"] == "application/problem+json"


SAFE = st.text(alphabet=st.characters(codec="ascii", exclude_characters="\x00/?#\r\n"), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["/v1/messages", "/v1/events", "/v1/messages/{}", "/v1/recipients/{}/messages"]),
    value=SAFE,
    name=st.sampled_from(["q", "status", "recipient", "message_id", "cursor", "from", "limit", "channel"]),
)
def test_fuzzed_requests_never_leak_or_fail(api, path, value, name):
    if not getattr(api, "_planted", False):
        plant(api)
        api._planted = True
    from urllib.parse import quote

    target = path.format(quote(value, safe="")) + f"?{name}={quote(value, safe='')}"
    reply = api.get(target, auth=ATTACKER)
    assert reply.status < 500, (target, reply.raw)
    assert MARKER not in reply.raw.decode(errors="replace")
    if reply.status >= 400:
        assert reply.headers["content-type"] in ("application/problem+json", "application/json")
