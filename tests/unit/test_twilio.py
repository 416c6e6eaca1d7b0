"""Twilio's request signature (twilio-python's own test vectors) and status mapping."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from msglog.errors import BadRequest, Unauthorized
from msglog.providers import WebhookRequest, twilio
from tests.support import vectors

TWILIO = vectors("twilio")


def request_for(vector):
    if "raw_body" in vector:
        return WebhookRequest(body=vector["raw_body"].encode(), url=vector["url"],
                              headers={"content-type": "application/json", "x-twilio-signature": vector["signature"]})
    body = vector.get("form_body") or urlencode(vector.get("params_multi") or vector["params"])
    return WebhookRequest(body=body.encode(), url=vector["url"], headers={
        "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": vector["signature"]})


@pytest.mark.parametrize(
    "vector", TWILIO["signature_vectors"] + TWILIO["status_callback_samples"], ids=lambda v: v["id"]
)
def test_official_signature_vectors(vector):
    """source: each vector names its own (twilio/twilio-python tests/unit/test_request_validator.py)."""
    request = request_for(vector)
    twilio.verify(twilio.read(request), [{"auth_token": vector["auth_token"]}], request=request, max_age_seconds=300)


@pytest.mark.parametrize("vector", TWILIO["signature_vectors"], ids=lambda v: v["id"])
def test_a_changed_token_url_or_parameter_is_refused(vector):
    for change in ("token", "url", "param"):
        request = request_for(vector)
        token = vector["auth_token"] + ("x" if change == "token" else "")
        if change == "url":
            request = WebhookRequest(request.body, request.headers, request.url.replace("myapp", "yourapp"))
        if change == "param":
            request = WebhookRequest(request.body + b"&Extra=1" if "raw_body" not in vector else request.body + b" ",
                                     request.headers, request.url)
        with pytest.raises(Unauthorized):
            twilio.verify(twilio.read(request), [{"auth_token": token}], request=request, max_age_seconds=300)


@pytest.mark.parametrize("vector,event,code", [
    (TWILIO["status_callback_samples"][0], "undelivered", "30003"),
    (TWILIO["status_callback_samples"][1], "delivered", None),
])
def test_status_callbacks_normalise(vector, event, code):
    normalised = twilio.events(twilio.read(request_for(vector)))[0]
    assert (normalised.event, normalised.error_code, normalised.recipient, normalised.channel) == (
        event, code, "+15558675310", "sms")
    assert normalised.event_id == f"twilio.SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX.{event}"
    if code:
        assert normalised.reason == "Unreachable destination handset"
    if "RawDlrDoneDate" in vector["params"]:
        assert normalised.timestamp.isoformat() == "2023-02-14T12:15:00+00:00"


@pytest.mark.parametrize(
    "status,event",
    [
        ("sending", "sent"),
        ("sent", "sent"),
        ("queued", "queued"),
        ("read", "read"),
        ("canceled", "canceled"),
        ("partially_delivered", "unknown"),
    ],
)
def test_statuses(status, event):
    params = {"MessageSid": "SM1", "MessageStatus": status, "To": "+15558675310"}
    assert twilio.normalize(params, {}).event == event


def test_message_id_from_the_signed_callback_url():
    params = {"MessageSid": "SM1", "MessageStatus": "sent", "To": "+15558675310"}
    assert (
        twilio.normalize(params, {"message_id": "01JD3Q6Z9W8X7V6T5S4R3Q2P1N"}).message_id
        == "01JD3Q6Z9W8X7V6T5S4R3Q2P1N"
    )


@pytest.mark.parametrize("params,field", [({"MessageStatus": "sent", "To": "+15558675310"}, "MessageSid"),
                                          ({"MessageSid": "SM1", "To": "+15558675310"}, "MessageStatus"),
                                          ({"MessageSid": "SM1", "MessageStatus": "sent", "To": "555"}, "To")])
def test_malformed_callbacks_name_the_field(params, field):
    with pytest.raises(BadRequest) as raised:
        twilio.normalize(params, {})
    assert field in [e.field for e in raised.value.errors]


def test_wrong_content_type_is_400():
    with pytest.raises(BadRequest):
        twilio.read(WebhookRequest(b"<xml/>", {"content-type": "text/xml"}, "https://x"))


def test_a_callback_without_to_is_read_and_a_bad_to_is_still_refused():
    # Twilio's documented status-callback example carries no To: the MessageSid identifies the recipient.
    event = twilio.normalize({"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered", "AccountSid": "AC1"}, {})
    assert (event.recipient, event.provider_message_id, event.event) == ("", "SM" + "1" * 32, "delivered")
    with pytest.raises(BadRequest) as refused:
        twilio.normalize({"MessageSid": "SM" + "1" * 32, "MessageStatus": "sent", "To": "5558675310"}, {})
    assert [e.field for e in refused.value.errors] == ["To"]


def test_a_recipient_who_replied_stop_is_held_by_the_provider():
    base = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "undelivered", "To": "+15558675310"}
    assert twilio.normalize({**base, "ErrorCode": "21610"}, {}).held == "unsubscribe"
    assert twilio.normalize({**base, "ErrorCode": "30003"}, {}).held is None
