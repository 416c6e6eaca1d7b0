"""Every provider route, every kind of bad request: the right 4xx, and nothing written."""

from __future__ import annotations

import json

import pytest

from tests.support import mailgun_event, mailgun_payload, sendgrid_key, sendgrid_post, token, vectors

SNS = vectors("ses_sns")
GOOD = {  # a body each route would accept, and how it is sent
    "mailgun": lambda: (json.dumps(mailgun_payload(mailgun_event("delivered"))).encode(), "application/json"),
    "postmark": lambda: (json.dumps(vectors("postmark")["samples"][0]["body"]).encode(), "application/json"),
    "sendgrid": lambda: (
        b'[{"email":"a@example.com","event":"delivered","timestamp":1790000000}]\r\n',
        "application/json",
    ),
    "ses": lambda: (json.dumps(SNS["constructed_signed_vectors"]["vectors"][1]["message"]).encode(), "text/plain"),
    "twilio": lambda: (b"MessageSid=SM1&MessageStatus=sent&To=%2B15558675310", "application/x-www-form-urlencoded"),
}


@pytest.fixture
def tenant(api):
    api.setup_tenant("acme")
    _, public = sendgrid_key()
    for provider, credentials in [("postmark", {"username": "postmark", "password": "s3cret-pass"}),
                                  ("sendgrid", {"public_key": public}), ("twilio", {"auth_token": "twilio-token-1"}),
                                  ("ses", {"topic_arns": ["arn:aws:sns:us-east-1:123456789012:ses-events"]})]:
        assert api.call("PUT", f"/v1/providers/{provider}", credentials).status == 200
    return api


NEVER_ACCEPTED = {"mailgun": 406, "postmark": 403}  # docs/providers.md: the answer that stops their retries


def nothing_written(api):
    admin = token(rights=["admin"])
    assert api.get("/v1/events", auth=admin).json["items"] == []
    assert api.get("/v1/suppressions", auth=admin).json["items"] == []


@pytest.mark.parametrize("provider", sorted(GOOD))
def test_unsigned_or_unauthenticated_requests_are_401(tenant, provider):
    body, kind = GOOD[provider]()
    if provider == "mailgun":
        body = json.dumps(mailgun_payload(mailgun_event("delivered"), key="key-not-theirs")).encode()
    reply = tenant.post(f"/v1/webhooks/{provider}/acme", raw=body, content_type=kind, auth=None)
    assert reply.status == 401, reply.raw
    assert reply.json["detail"] == tenant.post(f"/v1/webhooks/{provider}/nobody", raw=body, content_type=kind,
                                               auth=None).json["detail"]
    nothing_written(tenant)


@pytest.mark.parametrize("provider", sorted(GOOD))
@pytest.mark.parametrize("damage", ["truncated", "not utf-8", "empty", "wrong shape"])
def test_unreadable_bodies_are_refused_for_good(tenant, provider, damage):
    body, kind = GOOD[provider]()
    body = {"truncated": body[: len(body) // 2], "not utf-8": b"\xff\xfe\xfd" + body, "empty": b"",
            "wrong shape": b'"just a string"'}[damage]
    reply = tenant.post(f"/v1/webhooks/{provider}/acme", raw=body, content_type=kind, auth=None)
    # An empty form is a well-formed (empty) Twilio callback: its signature is what is missing.
    # Mailgun and Postmark stop retrying only on 406 and 403: a body that can never be read gets those.
    expected = 401 if (provider, damage) == ("twilio", "empty") else NEVER_ACCEPTED.get(provider, 400)
    assert reply.status == expected, (damage, reply.raw)
    assert reply.headers["content-type"] == "application/problem+json"
    nothing_written(tenant)


@pytest.mark.parametrize("provider", sorted(GOOD))
def test_huge_bodies_are_413(tenant, provider):
    _, kind = GOOD[provider]()
    reply = tenant.post(f"/v1/webhooks/{provider}/acme", raw=b"x" * (5 * 1024 * 1024 + 1), content_type=kind, auth=None)
    assert reply.status == NEVER_ACCEPTED.get(provider, 413)
    nothing_written(tenant)


def test_wrong_content_type_for_twilio_is_400(tenant):
    reply = tenant.post("/v1/webhooks/twilio/acme", raw=b"<Response/>", content_type="text/xml", auth=None)
    assert reply.status == 400 and reply.fields == ["content-type"]


def test_sendgrid_without_its_headers_is_401(tenant):
    body, _ = GOOD["sendgrid"]()
    assert tenant.post("/v1/webhooks/sendgrid/acme", raw=body, auth=None).status == 401
    private, public = sendgrid_key()
    tenant.call("PUT", "/v1/providers/sendgrid", {"public_key": public})
    assert sendgrid_post(tenant, private, json.loads(body)).status == 200
