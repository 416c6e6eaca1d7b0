"""Every provider sample in tests/vectors, through its real route: each shows up in the event log
with the right normalised event, and in the recipient log with the right status."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import pytest

from msglog.precedence import rank
from tests.support import mailgun_payload, sendgrid_key, sendgrid_post, vectors

SNS = vectors("ses_sns")
TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events"
CASES = (
    [("mailgun", name) for name in vectors("mailgun")["event_data_samples"] if name not in ("provenance", "source")]
    + [("postmark", s["id"]) for s in vectors("postmark")["samples"]]
    + [("sendgrid", "sample_event_batch")]
    + [("ses", name) for name in SNS["ses_event_publishing_samples"]["events"]]
    + [("twilio", s["id"]) for s in vectors("twilio")["status_callback_samples"]]
)


def sign_sns(message: dict) -> dict:
    """Sign an SNS envelope with the vectors' TEST key (its certificate is provisioned offline)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    from msglog.providers.ses import string_to_sign

    key = serialization.load_pem_private_key(SNS["constructed_signed_vectors"]["test_private_key_pem"].encode(), None)
    signature = key.sign(string_to_sign(message).encode(), padding.PKCS1v15(), hashes.SHA256())
    return {**message, "SignatureVersion": "2", "Signature": base64.b64encode(signature).decode()}


@pytest.fixture
def routed(api_with, tmp_path):
    from msglog.providers import ses

    (tmp_path / "SimpleNotificationService-TESTONLY.pem").write_text(SNS["constructed_signed_vectors"]["test_cert_pem"])
    ses.reset()
    api = api_with(WEBHOOK_MAX_AGE_SECONDS="0", SNS_SIGNING_CERTS_DIR=str(tmp_path))
    api.setup_tenant("acme")
    api.call("PUT", "/v1/providers/postmark", {"username": "postmark", "password": "s3cret-pass"})
    api.call("PUT", "/v1/providers/twilio", {"auth_token": "twilio-token-1"})
    api.call("PUT", "/v1/providers/ses", {"topic_arns": [TOPIC]})
    yield api
    ses.reset()


def post(api, provider: str, name: str) -> list:
    """Post the sample through its route; returns its events as the provider module reads them."""
    if provider == "mailgun":
        from msglog.providers.mailgun import normalize

        data = vectors("mailgun")["event_data_samples"][name]
        assert api.post("/v1/webhooks/mailgun/acme", mailgun_payload(data), auth=None).status == 200
        return [normalize(data)]
    if provider == "postmark":
        from msglog.providers.postmark import normalize

        body = next(s["body"] for s in vectors("postmark")["samples"] if s["id"] == name)
        auth = "Basic " + base64.b64encode(b"postmark:s3cret-pass").decode()
        assert api.post("/v1/webhooks/postmark/acme", body, auth=None, headers={"Authorization": auth}).status == 200
        return [normalize(body)]
    if provider == "sendgrid":
        from msglog.providers.sendgrid import normalize

        private, public = sendgrid_key()
        api.call("PUT", "/v1/providers/sendgrid", {"public_key": public})
        batch = vectors("sendgrid")["sample_event_batch"]["events"]
        assert sendgrid_post(api, private, batch).status == 200
        return [normalize(e) for e in batch]
    if provider == "ses":
        from msglog.providers.ses import normalize

        record = SNS["ses_event_publishing_samples"]["events"][name]
        envelope = sign_sns({"Type": "Notification", "MessageId": "sample-" + name.replace(" ", "-"),
                             "TopicArn": TOPIC, "Message": json.dumps(record), "Timestamp": "2026-11-23T10:00:00.000Z",
                             "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-TESTONLY.pem"})
        reply = api.post(
            "/v1/webhooks/ses/acme", raw=json.dumps(envelope).encode(), content_type="text/plain", auth=None
        )
        assert reply.status == 200, reply.raw
        return normalize(envelope)
    from msglog.providers.twilio import normalize, signature

    params = next(s for s in vectors("twilio")["status_callback_samples"] if s["id"] == name)["params"]
    url = "https://api.example.test/v1/webhooks/twilio/acme"  # re-signed for our URL with the tenant's token
    reply = api.post("/v1/webhooks/twilio/acme", raw=urlencode(params).encode(), auth=None,
                     content_type="application/x-www-form-urlencoded",
                     headers={"X-Twilio-Signature": signature("twilio-token-1", url, list(params.items()))})
    assert reply.status == 200, reply.raw
    return [normalize(params, {})]


@pytest.mark.parametrize("provider,name", CASES, ids=[f"{p}:{n}" for p, n in CASES])
def test_every_sample_reaches_both_logs(routed, provider, name):
    """The message is recorded after its events arrived (matched by the provider's message id):
    the events show in the event log, and the recipient's status is the best of them."""
    events = post(routed, provider, name)
    recipient, pmid = events[0].recipient, events[0].provider_message_id
    path = recipient.replace("+", "%2B")
    shown = routed.get(f"/v1/events?recipient={path}&limit=200").json["items"]
    assert sorted(e["event"] for e in shown) == sorted(e.event for e in events)
    assert {e["provider_event"] for e in shown} == {e.provider_event for e in events}
    body = {"channel": "sms" if provider == "twilio" else "email", "subject": "Sample",
            "created_at": "2010-01-01T00:00:00Z",  # sent before the samples' own times
            "recipients": [{"address": recipient, "provider_message_id": pmid}]}
    message_id = routed.post("/v1/messages", body, auth=routed.default_token).json["message_id"]
    row = routed.get(f"/v1/recipients/{path}/messages").json["items"][0]
    ranked = [e for e in events if rank(e.event)]
    best = max(ranked, key=lambda e: (rank(e.event), e.timestamp, e.event_id)).event if ranked else "queued"
    assert (row["message_id"], row["status"]) == (message_id, best)
    assert all(
        e["message_id"] == message_id for e in routed.get(f"/v1/events?recipient={path}&limit=200").json["items"]
    )
