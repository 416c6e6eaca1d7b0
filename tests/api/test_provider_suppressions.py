"""The providers' own suppression lists (fakes: local/fakes): GET /v1/suppressions/{address}?refresh=true
asks them and puts what they hold on ours; DELETE also takes the address off theirs, saying per provider
what happened, audited; Postmark's SubscriptionChange that suppresses sending is a provider-held entry."""

from __future__ import annotations

import json

import pytest

from local.fakes.ses import FakeSesV2
from tests.api.test_provider_answers import postmark_auth
from tests.api.test_vector_samples import SNS, TOPIC, sign_sns
from tests.support import token

READ = token(rights=["suppressions:read"])
WRITE = token(rights=["suppressions:write"], sub="u-ops")


def test_a_refresh_asks_the_providers_and_lists_what_they_hold(provider_api, fakes):
    api = provider_api
    fakes["mailgun"].lists["bounces"].add("gone@example.com")
    fakes["sendgrid"].lists["spam_reports"].add("gone@example.com")
    assert api.get("/v1/suppressions/gone@example.com", auth=READ).status == 404  # not asked: not known
    reply = api.get("/v1/suppressions/gone@example.com?refresh=true", auth=READ)
    assert reply.status == 200, reply.json
    assert (reply.json["reason"], reply.json["source"], reply.json["provider"]) == ("bounce", "provider", "mailgun")
    assert {(a["provider"], a["outcome"], tuple(a["held"])) for a in reply.json["providers"]} == {
        ("mailgun", "held", ("bounce",)), ("postmark", "not held", ()),
        ("sendgrid", "held", ("complaint",))}
    assert api.get("/v1/suppressions/gone@example.com", auth=READ).json["provider"] == "mailgun"
    missing = api.get("/v1/suppressions/fine@example.com?refresh=true", auth=READ)
    assert missing.status == 404 and "mailgun: not held" in missing.json["detail"]


def test_a_reset_reaches_each_provider_and_says_what_happened(provider_api, fakes):
    api = provider_api
    fakes["mailgun"].lists["bounces"].add("gone@example.com")
    fakes["mailgun"].lists["complaints"].add("gone@example.com")
    fakes["sendgrid"].groups[7] = {"gone@example.com"}
    fakes["postmark"].deactivate(42, "gone@example.com")
    assert api.call("PUT", "/v1/suppressions/gone@example.com", {"reason": "bounce"}, auth=WRITE).status == 200
    reset = api.call("DELETE", "/v1/suppressions/gone@example.com", auth=WRITE)
    assert reset.status == 200, reset.raw
    assert {a["provider"]: (a["outcome"], a["held"]) for a in reset.json["providers"]} == {
        "mailgun": ("removed", ["bounce", "complaint"]), "postmark": ("removed", ["bounce"]),
        "sendgrid": ("removed", ["unsubscribe"])}
    assert fakes["mailgun"].lists == {"bounces": set(), "unsubscribes": set(), "complaints": set()}
    assert fakes["sendgrid"].groups[7] == set() and fakes["postmark"].bounces[42]["Inactive"] is False
    assert api.get("/v1/suppressions/gone@example.com", auth=READ).status == 404
    audit = [r for r in api.get("/v1/audit?limit=50", auth=token(rights=["logs:audit"])).json["items"]
             if r["action"] == "suppression.reset"]
    assert audit and audit[0]["details"]["providers"] == "mailgun:removed,postmark:removed,sendgrid:removed"


def test_a_provider_that_cannot_release_says_so(provider_api, fakes):
    api = provider_api
    fakes["postmark"].deactivate(43, "angry@example.com", can_activate=False)  # a spam complaint
    fakes["sendgrid"].fail(500)
    api.call("PUT", "/v1/suppressions/angry@example.com", {"reason": "complaint"}, auth=WRITE)
    reset = api.call("DELETE", "/v1/suppressions/angry@example.com", auth=WRITE).json
    outcomes = {a["provider"]: (a["outcome"], a.get("detail", "")) for a in reset["providers"]}
    assert outcomes["mailgun"] == ("not held", "")
    assert outcomes["postmark"][0] == "not possible" and "SpamComplaint" in outcomes["postmark"][1]
    assert outcomes["sendgrid"] == ("failed", "the provider answered 500")
    assert api.call("PUT", "/v1/suppressions/%2B15550100001", {"reason": "manual"}, auth=WRITE).status == 200
    sms = api.call("DELETE", "/v1/suppressions/%2B15550100001", auth=WRITE).json
    assert sms["providers"] == [{"provider": "twilio", "held": None, "outcome": "not possible",
                                 "detail": "Twilio has no API for a recipient's STOP: the recipient must reply START"}]


def test_a_postmark_unsubscribe_held_in_its_stream_is_seen_and_reset_there(provider_api, fakes):
    """Postmark's per-stream Suppressions API: a ManualSuppression (the recipient unsubscribed) is no bounce,
    and only this API holds it."""
    api = provider_api
    fakes["postmark"].suppress("bye@example.com", "ManualSuppression")
    reply = api.get("/v1/suppressions/bye@example.com?refresh=true", auth=READ)
    assert reply.status == 200, reply.json
    assert (reply.json["reason"], reply.json["source"], reply.json["provider"]) == ("unsubscribe", "provider",
                                                                                  "postmark")
    reset = api.call("DELETE", "/v1/suppressions/bye@example.com", auth=WRITE)
    assert reset.status == 200, reset.raw
    assert {a["provider"]: (a["outcome"], a["held"]) for a in reset.json["providers"]}["postmark"] == (
        "removed", ["unsubscribe"])
    assert fakes["postmark"].suppressions["outbound"] == {}
    assert [r.path for r in fakes["postmark"].requests if r.method == "POST"] == [
        "/message-streams/outbound/suppressions/delete"]


def test_a_postmark_spam_complaint_cannot_be_reset_and_the_answer_says_so(provider_api, fakes):
    api = provider_api
    fakes["postmark"].suppress("angry@example.com", "SpamComplaint")
    api.call("PUT", "/v1/suppressions/angry@example.com", {"reason": "complaint"}, auth=WRITE)
    reset = api.call("DELETE", "/v1/suppressions/angry@example.com", auth=WRITE).json
    [postmark] = [a for a in reset["providers"] if a["provider"] == "postmark"]
    assert (postmark["outcome"], postmark["held"]) == ("not possible", ["complaint"])
    assert "does not allow a SpamComplaint suppression to be deleted" in postmark["detail"]
    assert "angry@example.com" in fakes["postmark"].suppressions["outbound"]  # Postmark still suppresses it
    assert [r for r in fakes["postmark"].requests if r.method == "POST"] == []


def test_a_tenant_s_postmark_stream_is_the_one_asked(provider_api, fakes):
    api = provider_api
    assert api.call("PUT", "/v1/providers/postmark", {"api": {"server_token": "postmark-server-token",
                                                              "message_stream": "broadcasts"}}).status == 200
    fakes["postmark"].suppressions["broadcasts"] = {}
    fakes["postmark"].suppress("news@example.com", "ManualSuppression", stream="broadcasts")
    fakes["postmark"].suppress("news@example.com", "HardBounce")  # another stream's: not this tenant's
    reply = api.get("/v1/suppressions/news@example.com?refresh=true", auth=READ).json
    assert [a for a in reply["providers"] if a["provider"] == "postmark"] == [
        {"provider": "postmark", "held": ["unsubscribe"], "outcome": "held"}]
    assert {r.path for r in fakes["postmark"].requests} == {"/message-streams/broadcasts/suppressions/dump"}


def test_a_postmark_subscription_change_that_suppresses_sending_is_held_by_postmark(api):
    api.call("PUT", "/v1/providers/postmark", {"username": "postmark", "password": "s3cret-pass"})
    change = {"RecordType": "SubscriptionChange", "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
              "ServerID": 23, "MessageStream": "outbound", "ChangedAt": "2026-12-03T10:00:00Z",
              "Recipient": "bye@example.com", "Origin": "Recipient", "SuppressSending": True,
              "SuppressionReason": "ManualSuppression", "Tag": "", "Metadata": {}}
    assert api.post("/v1/webhooks/postmark/acme", change, auth=None, headers=postmark_auth()).status == 200
    entry = api.get("/v1/suppressions/bye@example.com", auth=READ).json
    assert (entry["reason"], entry["source"], entry["provider"]) == ("unsubscribe", "provider", "postmark")


# ------------------------------------------------------------------ SES's account-level suppression list
@pytest.fixture
def fake_ses():
    fake = FakeSesV2().start()
    yield fake
    fake.stop()


@pytest.fixture
def ses_tenant(api_with, fake_ses, tmp_path):
    """A tenant that takes SES's events (signed with the vectors' test certificate), the service's sesv2
    client pointed at the fake (moto has no account suppression list)."""
    from msglog.providers import ses

    (tmp_path / "SimpleNotificationService-TESTONLY.pem").write_text(SNS["constructed_signed_vectors"]["test_cert_pem"])
    ses.reset()
    api = api_with(AWS_ENDPOINT_URL_SESV2=fake_ses.url, SNS_SIGNING_CERTS_DIR=str(tmp_path),
                   WEBHOOK_MAX_AGE_SECONDS="0")
    api.setup_tenant("acme")
    assert api.call("PUT", "/v1/providers/ses", {"topic_arns": [TOPIC]}).status == 200
    yield api
    ses.reset()


def test_a_refresh_asks_ses_account_suppression_list(ses_tenant, fake_ses):
    api = ses_tenant
    fake_ses.suppress("bounced@example.com", "COMPLAINT")
    reply = api.get("/v1/suppressions/bounced@example.com?refresh=true", auth=READ)
    assert reply.status == 200, reply.json
    assert (reply.json["reason"], reply.json["source"], reply.json["provider"]) == ("complaint", "provider", "ses")
    assert reply.json["providers"] == [{"provider": "ses", "held": ["complaint"], "outcome": "held"}]
    missing = api.get("/v1/suppressions/fine@example.com?refresh=true", auth=READ)
    assert missing.status == 404 and "ses: not held" in missing.json["detail"]
    assert [(r.method, r.path) for r in fake_ses.requests] == [
        ("GET", "/v2/email/suppression/addresses/bounced%40example.com"),
        ("GET", "/v2/email/suppression/addresses/fine%40example.com")]


def test_a_reset_takes_the_address_off_ses_list_and_is_audited(ses_tenant, fake_ses):
    api = ses_tenant
    fake_ses.suppress("gone@example.com")
    assert api.call("PUT", "/v1/suppressions/gone@example.com", {"reason": "bounce"}, auth=WRITE).status == 200
    reset = api.call("DELETE", "/v1/suppressions/gone@example.com", auth=WRITE)
    assert reset.status == 200, reset.raw
    assert reset.json["providers"] == [{"provider": "ses", "held": ["bounce"], "outcome": "removed"}]
    assert fake_ses.suppressed == {}
    audit = [r for r in api.get("/v1/audit?limit=50", auth=token(rights=["logs:audit"])).json["items"]
             if r["action"] == "suppression.reset"]
    assert audit and audit[0]["details"]["providers"] == "ses:removed"
    api.call("PUT", "/v1/suppressions/gone@example.com", {"reason": "bounce"}, auth=WRITE)
    fake_ses.fail(429, retry_after=None)
    throttled = api.call("DELETE", "/v1/suppressions/gone@example.com", auth=WRITE).json["providers"]
    assert throttled[0]["provider"] == "ses" and throttled[0]["outcome"] == "failed"
    assert "rate limiting" in throttled[0]["detail"]


def test_an_ses_bounce_on_the_account_suppression_list_is_held_by_ses(ses_tenant):
    """SES's documented Bounce record with its documented subtype (SES Developer Guide, notification
    contents: bounceSubType OnAccountSuppressionList), signed with the vectors' test key."""
    record = json.loads(json.dumps(SNS["ses_event_publishing_samples"]["events"]["Bounce record"]))
    record["bounce"]["bounceSubType"] = "OnAccountSuppressionList"
    record["bounce"]["bouncedRecipients"] = [{
        "emailAddress": "recipient@example.com", "action": "failed", "status": "5.1.1",
        "diagnosticCode": "Amazon SES did not send the message to this address because it is on the suppression "
                          "list for your account."}]
    envelope = sign_sns({"Type": "Notification", "MessageId": "held-by-ses-1", "TopicArn": TOPIC,
                         "Message": json.dumps(record), "Timestamp": "2026-11-23T10:00:00.000Z",
                         "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-TESTONLY.pem"})
    api = ses_tenant
    reply = api.post("/v1/webhooks/ses/acme", raw=json.dumps(envelope).encode(), content_type="text/plain", auth=None)
    assert reply.status == 200, reply.raw
    entry = api.get("/v1/suppressions/recipient@example.com", auth=READ).json
    assert (entry["reason"], entry["source"], entry["provider"]) == ("bounce", "provider", "ses")
