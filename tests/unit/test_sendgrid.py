"""SendGrid's ECDSA signature (sendgrid-python/nodejs test vectors) and event mapping."""

from __future__ import annotations

import base64

import pytest

from msglog.errors import BadRequest, Unauthorized
from msglog.providers import Malformed, WebhookRequest, sendgrid
from tests.support import vectors

SENDGRID = vectors("sendgrid")
BATCH = SENDGRID["sample_event_batch"]["events"]


def request_for(vector):
    return WebhookRequest(body=base64.b64decode(vector["payload_b64"]), url="https://x", headers={
        sendgrid.SIGNATURE: vector["signature_b64_der"], sendgrid.TIMESTAMP: vector["timestamp"]})


@pytest.mark.parametrize("vector", SENDGRID["signature_vectors"], ids=lambda v: v["id"])
def test_official_signature_vectors(vector):
    """source: each vector names its own (sendgrid-python test/unit/test_eventwebhook.py)."""
    request = request_for(vector)
    credentials = [{"public_key": vector["public_key_b64_der"]}]
    if str(vector["expect_valid"]) == "True":
        sendgrid.verify([], credentials, request=request, max_age_seconds=0)
    else:
        with pytest.raises(Unauthorized):
            sendgrid.verify([], credentials, request=request, max_age_seconds=0)


def test_the_raw_bytes_are_signed_not_the_json():
    vector = SENDGRID["signature_vectors"][0]
    request = request_for(vector)
    reserialised = WebhookRequest(request.body.rstrip(b"\r\n"), request.headers, request.url)
    with pytest.raises(Unauthorized):
        sendgrid.verify([], [{"public_key": vector["public_key_b64_der"]}], request=reserialised, max_age_seconds=0)


def test_age_check_and_rotation():
    vector = SENDGRID["signature_vectors"][0]
    other_key = SENDGRID["signature_vectors"][2]["public_key_b64_der"]
    credentials = [{"public_key": other_key}, {"public_key": vector["public_key_b64_der"]}]
    sendgrid.verify([], credentials, request=request_for(vector), max_age_seconds=300, now=1600112502 + 200)
    with pytest.raises(Unauthorized, match="too old"):
        sendgrid.verify([], credentials, request=request_for(vector), max_age_seconds=300, now=1600112502 + 400)


@pytest.mark.parametrize("index,event,reason,code", [
    (0, "accepted", None, None), (1, "deferred", "400 try again later", None), (2, "delivered", None, None),
    (3, "opened", None, None), (4, "clicked", None, None), (5, "bounced", "500 unknown recipient", "5.0.0"),
    (6, "dropped", "Bounced Address", "5.0.0"), (7, "complained", None, None), (8, "unsubscribed", None, None),
    (9, "unsubscribed", None, None), (10, "unknown", None, None),
])
def test_sample_batch_normalises(index, event, reason, code):
    """source: vectors/sendgrid.json sample_event_batch (sendgrid-nodejs docs example)."""
    normalised = sendgrid.normalize(BATCH[index], index)
    assert (normalised.event, normalised.reason, normalised.error_code) == (event, reason, code)
    assert normalised.provider_event == BATCH[index]["event"]
    assert normalised.provider_message_id == "14c5d75ce93.dfd.64b469"


def test_a_retry_with_a_new_sg_event_id_is_the_same_event():
    retried = {**BATCH[2], "sg_event_id": "a-different-id-on-retry"}
    assert sendgrid.normalize(retried).event_id == sendgrid.normalize(BATCH[2]).event_id
    assert sendgrid.normalize({**BATCH[2], "timestamp": BATCH[2]["timestamp"] + 1}).event_id != \
        sendgrid.normalize(BATCH[2]).event_id


def test_blocked_bounces_are_failures():
    assert sendgrid.normalize({**BATCH[5], "type": "blocked"}).event == "failed"


def test_malformed_items_are_reported_and_the_rest_kept():
    items = sendgrid.events([BATCH[2], {"event": "delivered"}, "junk", BATCH[3]])
    assert [type(i).__name__ for i in items] == ["ProviderEvent", "Malformed", "Malformed", "ProviderEvent"]
    assert {e.field for e in items[1].errors} == {"[1].email", "[1].timestamp"}
    assert isinstance(items[2], Malformed) and items[2].index == 2


@pytest.mark.parametrize("body", [b"{}", b"[]", b"nope", b"[" * 50_000])
def test_unreadable_bodies_are_400(body):
    with pytest.raises(BadRequest):
        sendgrid.read(WebhookRequest(body, {}, "https://x"))


@pytest.mark.parametrize(("reason", "held"), [("Bounced Address", "bounce"), ("Unsubscribed Address", "unsubscribe"),
                                              ("Spam Reporting Address", "complaint"), ("Invalid", None)])
def test_a_drop_for_an_address_on_sendgrids_own_list_is_held_by_the_provider(reason, held):
    # The shape of SendGrid's documented "dropped" event (tests/vectors/sendgrid.json), reason varied.
    data = {"email": "example@test.com", "timestamp": 1539462305, "event": "dropped",
            "sg_event_id": "tIulrwSK8TW4_o1JC79pMg==",
            "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
            "reason": reason, "status": "5.0.0"}
    assert sendgrid.normalize(data).held == held
