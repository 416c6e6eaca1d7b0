"""Mailgun's signature scheme and event mapping, checked against the official vectors."""

from __future__ import annotations

import copy

import pytest

from msglog.errors import BadRequest, Unauthorized
from msglog.providers import WebhookRequest, mailgun
from tests.support import mailgun_signature, vectors

MAILGUN = vectors("mailgun")
NOW_OF_VECTOR = 1403645220  # the official tuple's own time: the age check does not interfere


@pytest.mark.parametrize("vector", MAILGUN["signature_vectors"], ids=lambda v: v["id"])
def test_official_signature_vectors(vector):
    """source: each vector names its own (mailgun-php / mailgun-go tests)."""
    signature = {"timestamp": str(vector["timestamp"]), "token": vector["token"], "signature": vector["signature"]}
    if vector["expect_valid"]:
        mailgun.check_signature(signature, [vector["signing_key"]], max_age_seconds=0)
    else:
        with pytest.raises(Unauthorized):
            mailgun.check_signature(signature, [vector["signing_key"]], max_age_seconds=0)


def test_signature_with_another_key_is_refused():
    good = MAILGUN["signature_vectors"][0]
    signature = {"timestamp": str(good["timestamp"]), "token": good["token"], "signature": good["signature"]}
    with pytest.raises(Unauthorized):
        mailgun.check_signature(signature, ["key-someone-else"], max_age_seconds=0)


def test_either_key_verifies_during_rotation():
    good = MAILGUN["signature_vectors"][0]
    signature = {"timestamp": str(good["timestamp"]), "token": good["token"], "signature": good["signature"]}
    mailgun.check_signature(signature, ["key-new-one", good["signing_key"]], max_age_seconds=0)


@pytest.mark.parametrize("age,accepted", [(0, True), (299, True), (-299, True), (301, False), (-301, False)])
def test_timestamp_age_is_bounded(age, accepted):
    signature = mailgun_signature("k" * 16, timestamp=str(NOW_OF_VECTOR))
    now = NOW_OF_VECTOR + age
    if accepted:
        mailgun.check_signature(signature, ["k" * 16], max_age_seconds=300, now=now)
    else:
        with pytest.raises(Unauthorized, match="too old"):
            mailgun.check_signature(signature, ["k" * 16], max_age_seconds=300, now=now)


def test_age_check_off_with_zero():
    signature = mailgun_signature("k" * 16, timestamp="1")
    mailgun.check_signature(signature, ["k" * 16], max_age_seconds=0, now=NOW_OF_VECTOR)


@pytest.mark.parametrize("signature", [None, "x", {}, {"timestamp": "1", "token": "t"},
                                       {"timestamp": "1", "token": "t" * 300, "signature": "0" * 64}])
def test_malformed_signature_blocks_are_unauthorized(signature):
    with pytest.raises(Unauthorized):
        mailgun.check_signature(signature, ["k" * 16], max_age_seconds=0)


@pytest.mark.parametrize("name,event,reason,code", [
    ("delivered", "delivered", None, None),
    ("accepted", "accepted", None, None),
    ("failed_permanent", "failed", "Not delivering to previously bounced address", "605"),
    ("failed_permanent_delayed_bounce", "bounced", None, "550"),
    ("failed_temporary", "deferred", None, "451"),
])
def test_official_event_samples_normalise(name, event, reason, code):
    """source: mailgun/documentation api-events.rst samples (vectors/mailgun.json)."""
    data = MAILGUN["event_data_samples"][name]
    normalised = mailgun.normalize(data)
    assert normalised.event == event
    assert normalised.provider_event == data["event"]
    assert normalised.recipient == data["recipient"]
    assert normalised.event_id == f"mailgun.{data['id']}"
    assert normalised.error_code == code
    if reason:
        assert normalised.reason == reason
    if event in ("bounced", "deferred"):
        assert normalised.reason  # the provider's own words are kept
        assert normalised.severity == data["severity"]
    headers = data.get("message", {}).get("headers", {})
    assert normalised.provider_message_id == (headers.get("message-id") or "").strip("<>") or None


@pytest.mark.parametrize("name", ["opened", "clicked", "complained", "unsubscribed", "rejected", "stored"])
def test_other_events_keep_their_names(name):
    data = copy.deepcopy(MAILGUN["event_data_samples"]["delivered"])
    data["event"] = name
    assert mailgun.normalize(data).event == name


def test_unknown_event_type_is_kept_as_unknown():
    data = copy.deepcopy(MAILGUN["event_data_samples"]["delivered"])
    data["event"] = "list_member_uploaded"
    normalised = mailgun.normalize(data)
    assert (normalised.event, normalised.provider_event) == ("unknown", "list_member_uploaded")


@pytest.mark.parametrize("given,kept", [("01JD3Q6Z9W8X7V6T5S4R3Q2P1N", "01JD3Q6Z9W8X7V6T5S4R3Q2P1N"),
                                         ("not-ours", None), (42, None), ("01JD3Q6Z9W8X7V6T5S4R3Q2P1#", None)])
def test_message_id_from_user_variables_only_if_it_can_be_ours(given, kept):
    data = copy.deepcopy(MAILGUN["event_data_samples"]["delivered"])
    data["user-variables"] = {"message_id": given}
    assert mailgun.normalize(data).message_id == kept


@pytest.mark.parametrize("field,value", [
    ("event", None), ("id", None), ("id", "a#b"), ("recipient", "not-an-address"), ("timestamp", "yesterday"),
    ("timestamp", True), ("timestamp", -5),
])
def test_malformed_events_name_the_field(field, value):
    data = copy.deepcopy(MAILGUN["event_data_samples"]["delivered"])
    data[field] = value
    with pytest.raises(BadRequest) as raised:
        mailgun.normalize(data)
    assert f"event-data.{field}" in [e.field for e in raised.value.errors]


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'{"signature": {}}', b'{"event-data": 3}', b"\xff\xfe"])
def test_malformed_envelopes_are_bad_requests(body):
    with pytest.raises(BadRequest):
        mailgun.read(WebhookRequest(body=body, headers={}, url="https://x"))


def test_request_key_binds_what_is_signed_to_content():
    body = MAILGUN["composed_webhook_bodies"]["delivered"]
    key = mailgun.request_key(body)
    changed = copy.deepcopy(body)
    changed["event-data"]["event"] = "failed"
    assert key.signed == str(body["signature"]["timestamp"]) + body["signature"]["token"]
    assert (mailgun.request_key(changed).signed, mailgun.request_key(changed).at) == (key.signed, key.at)
    assert mailgun.request_key(changed).digest != key.digest


def test_a_re_split_signed_string_keys_the_same_row():
    """Digits moved between timestamp and token (the signature cannot tell): the same key, time included,
    so the row that guards the request is found again."""
    body = MAILGUN["composed_webhook_bodies"]["delivered"]
    timestamp, token = str(body["signature"]["timestamp"]), body["signature"]["token"]
    re_split = {**body, "signature": {**body["signature"], "timestamp": timestamp[:-1], "token": timestamp[-1] + token}}
    assert mailgun.request_key(re_split) == mailgun.request_key(body)
    assert mailgun.request_key(body).at.timestamp() == int(timestamp)


@pytest.mark.parametrize(("reason", "held"), [("suppress-bounce", "bounce"), ("suppress-unsubscribe", "unsubscribe"),
                                              ("suppress-complaint", "complaint"), ("bounce", None), ("old", None)])
def test_an_address_on_mailguns_own_list_is_held_by_the_provider(reason, held):
    data = copy.deepcopy(vectors("mailgun")["event_data_samples"]["failed_permanent"])  # the docs' suppress-bounce
    data["reason"] = reason
    assert mailgun.normalize(data).held == held
