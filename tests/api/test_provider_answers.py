"""What providers send that the service used to refuse, and the answer each provider understands."""

from __future__ import annotations

from tests.api.test_webhooks import twilio_post
from tests.support import token

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
