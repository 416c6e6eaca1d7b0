"""The providers' own suppression lists (fakes: local/fakes): GET /v1/suppressions/{address}?refresh=true
asks them and puts what they hold on ours; DELETE also takes the address off theirs, saying per provider
what happened, audited; Postmark's SubscriptionChange that suppresses sending is a provider-held entry."""

from __future__ import annotations

from tests.api.test_provider_answers import postmark_auth
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
    assert outcomes["postmark"][0] == "failed" and "CanActivate" in outcomes["postmark"][1]
    assert outcomes["sendgrid"] == ("failed", "the provider answered 500")
    assert api.call("PUT", "/v1/suppressions/%2B15550100001", {"reason": "manual"}, auth=WRITE).status == 200
    sms = api.call("DELETE", "/v1/suppressions/%2B15550100001", auth=WRITE).json
    assert sms["providers"] == [{"provider": "twilio", "held": None, "outcome": "not possible",
                                 "detail": "Twilio has no API for a recipient's STOP: the recipient must reply START"}]


def test_a_postmark_subscription_change_that_suppresses_sending_is_held_by_postmark(api):
    api.call("PUT", "/v1/providers/postmark", {"username": "postmark", "password": "s3cret-pass"})
    change = {"RecordType": "SubscriptionChange", "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
              "ServerID": 23, "MessageStream": "outbound", "ChangedAt": "2026-12-03T10:00:00Z",
              "Recipient": "bye@example.com", "Origin": "Recipient", "SuppressSending": True,
              "SuppressionReason": "ManualSuppression", "Tag": "", "Metadata": {}}
    assert api.post("/v1/webhooks/postmark/acme", change, auth=None, headers=postmark_auth()).status == 200
    entry = api.get("/v1/suppressions/bye@example.com", auth=READ).json
    assert (entry["reason"], entry["source"], entry["provider"]) == ("unsubscribe", "provider", "postmark")
