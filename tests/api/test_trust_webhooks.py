"""Issue 20, "Hold the trust boundary" (webhooks): what a signature vouches for, what a stored event
may hold, and who owns a provider message id."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest

from tests.support import MAILGUN_KEY, mailgun_event, mailgun_signature, sendgrid_key, token

ADMIN = token(rights=["admin"])


def suppressed(api):
    return [item["address"] for item in api.get("/v1/suppressions", auth=ADMIN).json["items"]]


def bounce_of(address):
    return mailgun_event("failed", address, severity="permanent", reason="bounce",
                         **{"delivery-status": {"code": 550, "message": "5.1.1 mailbox does not exist"}})


# ------------------------------------------------------------------ 1. what a Mailgun signature covers
@pytest.mark.parametrize("max_age,moved", [
    ("300", "e0"),  # the case: `ts + "e0"` still reads as the same time, with float()
    ("0", "e0"),
    ("0", "7"),  # digits moved from the token: the time becomes absurd, and the signed string is the same
])
def test_a_captured_mailgun_signature_re_split_carries_no_forged_event(api_with, max_age, moved):
    api = api_with(WEBHOOK_MAX_AGE_SECONDS=max_age)
    api.setup_tenant("acme")
    signature = mailgun_signature(MAILGUN_KEY, token_=moved + uuid.uuid4().hex[: 50 - len(moved)])
    genuine = api.post("/v1/webhooks/mailgun/acme", {"signature": signature, "event-data": mailgun_event("delivered")},
                       auth=None)
    assert genuine.status == 200, genuine.raw
    re_split = {**signature, "timestamp": signature["timestamp"] + moved, "token": signature["token"][len(moved):]}
    forged = api.post("/v1/webhooks/mailgun/acme", {"signature": re_split, "event-data": bounce_of("ceo@example.com")},
                      auth=None)
    assert forged.status == 401, forged.raw
    assert suppressed(api) == []
    assert [e["event"] for e in api.get("/v1/events", auth=ADMIN).json["items"]] == ["delivered"]


def test_a_re_split_that_keeps_a_plausible_time_is_a_replay_of_what_was_signed(api_with):
    """The last digit of the timestamp moved onto the token: a 1970s time (the age check is off) and a
    new token — but the same signed string, already seen with other content."""
    api = api_with(WEBHOOK_MAX_AGE_SECONDS="0")
    api.setup_tenant("acme")
    signature = mailgun_signature(MAILGUN_KEY)
    assert api.post("/v1/webhooks/mailgun/acme", {"signature": signature, "event-data": mailgun_event("delivered")},
                    auth=None).status == 200
    re_split = {**signature, "timestamp": signature["timestamp"][:-1],
                "token": signature["timestamp"][-1] + signature["token"]}
    forged = api.post("/v1/webhooks/mailgun/acme", {"signature": re_split, "event-data": bounce_of("ceo@example.com")},
                      auth=None)
    assert forged.status == 401 and forged.json["code"] == "NOLOG_REPLAYED_TOKEN", forged.raw
    assert suppressed(api) == []


def test_a_retry_of_the_same_mailgun_request_is_still_taken(api):
    api.setup_tenant("acme")
    payload = {"signature": mailgun_signature(MAILGUN_KEY), "event-data": mailgun_event("delivered")}
    assert api.post("/v1/webhooks/mailgun/acme", payload, auth=None).json["outcomes"] == {"NOLOG_UNMATCHED": 1}
    again = api.post("/v1/webhooks/mailgun/acme", payload, auth=None)
    assert again.status == 200 and again.json["outcomes"] == {"NOLOG_DUPLICATE": 1}


def sendgrid_signed(api, private, events, timestamp):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    body = (json.dumps(events) + "\r\n").encode()
    signature = base64.b64encode(private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
    return api.post("/v1/webhooks/sendgrid/acme", raw=body, auth=None, headers={
        "X-Twilio-Email-Event-Webhook-Signature": signature, "X-Twilio-Email-Event-Webhook-Timestamp": timestamp})


def absurd_timestamps():
    now = int(time.time())
    return {"nan": "nan", "NaN": "NaN", "exponent": f"{now}e0", "spaces": f" {now} ", "fraction": f"{now}.5",
            "underscore": f"{now // 1000}_{now % 1000:03}", "far future": "99999999999"}


@pytest.mark.parametrize("max_age", ["300", "0"])
@pytest.mark.parametrize("kind", sorted(absurd_timestamps()))
@pytest.mark.parametrize("provider", ["mailgun", "sendgrid"])
def test_signed_timestamps_that_are_not_plain_unix_seconds_are_refused_like_stale_ones(api_with, provider, kind,
                                                                                      max_age):
    api = api_with(WEBHOOK_MAX_AGE_SECONDS=max_age)
    api.setup_tenant("acme")
    private, public = sendgrid_key()
    assert api.call("PUT", "/v1/providers/sendgrid", {"public_key": public}).status == 200
    timestamp = absurd_timestamps()[kind]

    def post(at):
        if provider == "mailgun":
            return api.post("/v1/webhooks/mailgun/acme", {"signature": mailgun_signature(MAILGUN_KEY, timestamp=at),
                                                          "event-data": bounce_of("ceo@example.com")}, auth=None)
        return sendgrid_signed(api, private, [{"email": "ceo@example.com", "event": "bounce", "type": "bounce",
                                               "timestamp": 1_790_000_000}], at)

    reply = post(timestamp)
    assert reply.status == 401, reply.raw
    assert reply.json["detail"] == "the webhook timestamp is too old (or in the future)"
    assert suppressed(api) == [] and api.get("/v1/events", auth=ADMIN).json["items"] == []
    if max_age != "0":  # the same answer as a stale one
        assert post(str(int(time.time()) - 3600)).json == reply.json
