"""What providers send that the service used to refuse, and the answer each provider understands."""

from __future__ import annotations

from tests.api.test_webhooks import postmark_auth, twilio_post
from tests.support import MAILGUN_KEY, mailgun_event, mailgun_signature, token, vectors

SID = "SM0123456789abcdef0123456789abcdef"


def _sms(api, provider_message_id: str = SID) -> str:
    api.call("PUT", "/v1/providers/twilio", {"auth_token": "twilio-auth-token"})
    recipient = {"address": "+1 555 867 5310", "provider_message_id": provider_message_id}
    sms = {"channel": "sms", "body": {"text": "Bus is late"}, "recipients": [recipient]}
    return api.post("/v1/messages", sms, auth=token(rights=["messages:write"])).json["message_id"]


def test_twilio_callback_without_to_is_matched_by_its_message_sid(api):
    # The shape of Twilio's documented status-callback example: no To.
    message_id = _sms(api)
    reply = twilio_post(api, {"MessageSid": SID, "MessageStatus": "delivered", "AccountSid": "AC1",
                              "From": "+15017250604", "ApiVersion": "2010-04-01"})
    assert reply.status == 200, reply.json
    assert reply.json["events"][0] == {"event_id": f"twilio.{SID}.delivered", "outcome": "LOG_OK",
                                       "message_id": message_id}
    events = api.get("/v1/events").json["items"]
    assert [(e["recipient"], e["event"]) for e in events] == [("+15558675310", "delivered")]
    # Nothing else identifies the recipient of an unknown SID: then To is required, and nothing is stored.
    unknown = twilio_post(api, {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered", "AccountSid": "AC1"})
    assert unknown.status == 400 and [e["field"] for e in unknown.json["errors"]] == ["To"]
    assert len(api.get("/v1/events").json["items"]) == 1


def test_twilio_callback_without_to_naming_our_message_finds_its_only_recipient(api):
    # The SID is attached after the send (POST …/recipients) and a callback came first: its status-callback
    # URL names our message (?message_id=), whose one recipient it must be.
    api.call("PUT", "/v1/providers/twilio", {"auth_token": "twilio-auth-token"})
    writer = token(rights=["messages:write"])
    one = api.post("/v1/messages", {"channel": "sms", "recipients": [{"address": "+15558675310"}]},
                   auth=writer).json["message_id"]
    callback = {"MessageSid": SID, "MessageStatus": "sent", "AccountSid": "AC1"}
    reply = twilio_post(api, callback, query=f"?message_id={one}")
    assert reply.status == 200 and reply.json["events"][0]["outcome"] == "LOG_OK", reply.json
    assert [(e["recipient"], e["event"]) for e in api.get(f"/v1/events?message_id={one}").json["items"]] == [
        ("+15558675310", "sent")]
    two = api.post("/v1/messages", {"channel": "sms", "recipients": [{"address": "+15558675311"},
                                                                      {"address": "+15558675312"}]},
                   auth=writer).json["message_id"]
    ambiguous = twilio_post(api, {**callback, "MessageSid": "SM" + "e" * 32}, query=f"?message_id={two}")
    assert ambiguous.status == 400 and [e["field"] for e in ambiguous.json["errors"]] == ["To"]


def test_mailgun_gets_406_for_a_request_it_must_not_retry(api):
    # Mailgun retries every answer but 200 and 406 for 8 hours: a malformed event can never be accepted.
    api.setup_tenant()
    malformed = api.mailgun(mailgun_event("delivered", recipient="not an address"))
    assert malformed.status == 406, malformed.raw
    assert malformed.json["status"] == 406
    assert [e["field"] for e in malformed.json["errors"]] == ["event-data.recipient"]
    not_json = api.post("/v1/webhooks/mailgun/acme", raw=b"{", auth=None)
    assert not_json.status == 406
    # A signature that does not hold may be a key being rotated: still 401, so Mailgun tries again.
    assert api.mailgun(mailgun_event("delivered"), key="another-signing-key-0123456789").status == 401
    assert api.mailgun(mailgun_event("delivered")).status == 200


def test_mailgun_gets_406_for_a_replayed_token_with_other_content(api):
    # What a token signed, seen again with other content, can never be accepted: a 401 would be retried
    # by Mailgun for 8 hours. The refusal keeps its ingestion-log row.
    api.setup_tenant()
    message_id = api.record()
    signature = mailgun_signature(MAILGUN_KEY)
    first = {"signature": signature, "event-data": mailgun_event("delivered", message_id=message_id)}
    assert api.post("/v1/webhooks/mailgun/acme", first, auth=None).status == 200
    forged = {"signature": signature, "event-data": mailgun_event("complained", message_id=message_id)}
    reply = api.post("/v1/webhooks/mailgun/acme", forged, auth=None)
    assert reply.status == 406 and reply.json["code"] == "NOLOG_REPLAYED_TOKEN", reply.raw
    rows = api.get("/v1/ingestion-log?limit=10", auth=token(rights=["logs:ingestion"])).json["items"]
    assert sorted(list(r["outcomes"]) for r in rows) == [["LOG_OK"], ["NOLOG_REPLAYED_TOKEN"]]
    assert api.post("/v1/webhooks/mailgun/acme", first, auth=None).status == 200  # a retry is still taken


def test_postmark_gets_403_for_a_request_it_must_not_retry(api):
    # Postmark retries every answer but 200 and 403.
    api.call("PUT", "/v1/providers/postmark", {"username": "postmark", "password": "s3cret-pass"})
    malformed = api.post("/v1/webhooks/postmark/acme", {"RecordType": "Delivery"}, auth=None, headers=postmark_auth())
    assert malformed.status == 403, malformed.raw
    assert malformed.json["errors"]
    wrong = api.post("/v1/webhooks/postmark/acme", {"RecordType": "Delivery"}, auth=None,
                     headers=postmark_auth(password="wrong-pass-123"))
    assert wrong.status == 401


def test_an_address_mailgun_will_not_send_to_is_on_our_list_too(api_with):
    # Mailgun's documented "failed" event: "Not delivering to previously bounced address" (suppress-bounce),
    # in the official signed body (its 2014 timestamp: the age check is off here).
    api = api_with(WEBHOOK_MAX_AGE_SECONDS="0")
    composed = vectors("mailgun")["composed_webhook_bodies"]
    api.setup_tenant(signing_key=composed["signing_key"])
    reply = api.post("/v1/webhooks/mailgun/acme", composed["failed_permanent"], auth=None)
    assert reply.status == 200, reply.raw
    listed = api.get("/v1/suppressions", auth=token(rights=["suppressions:read"])).json["items"]
    assert [(i["address"], i["reason"], i["source"], i["provider"], i["detail"]) for i in listed] == [
        ("slava@mailgun.com", "bounce", "provider", "mailgun", "Not delivering to previously bounced address")]


def test_a_recipient_who_replied_stop_is_on_our_list_as_twilio_holds_it(api):
    message_id = _sms(api)
    stopped = {"MessageSid": SID, "MessageStatus": "undelivered", "ErrorCode": "21610", "To": "+15558675310"}
    assert twilio_post(api, stopped, query=f"?message_id={message_id}").status == 200
    listed = api.get("/v1/suppressions", auth=token(rights=["suppressions:read"])).json["items"]
    assert [(i["address"], i["reason"], i["source"], i["provider"]) for i in listed] == [
        ("+15558675310", "unsubscribe", "provider", "twilio")]
