"""Postmark records (vectors/postmark.json samples) and Basic-auth verification."""

from __future__ import annotations

import base64
import copy

import pytest

from msglog.errors import BadRequest, Unauthorized
from msglog.providers import WebhookRequest, postmark
from tests.support import vectors

SAMPLES = {s["id"]: s["body"] for s in vectors("postmark")["samples"]}
CREDENTIALS = [{"username": "postmark", "password": "s3cret-pass"}]


@pytest.mark.parametrize("sample,event,recipient,code", [
    ("delivery", "delivered", "john@example.com", None),
    ("bounce-hard", "bounced", "john@example.com", "1"),
    ("spam-complaint", "complained", "john@example.com", "512"),
    ("open", "opened", "john@example.com", None),
    ("click", "clicked", "john@example.com", None),
    ("subscription-change", "unsubscribed", "john@example.com", None),
    ("delivery-legacy-support-article", "delivered", "recipeint@example.com", None),
    ("bounce-marketing-page", "bounced", "john@example.com", "1"),
])
def test_samples_normalise(sample, event, recipient, code):
    """source: vectors/postmark.json (ActiveCampaign/postmark-skills references, postmarkapp.com pages)."""
    normalised = postmark.normalize(SAMPLES[sample])
    assert (normalised.event, normalised.recipient, normalised.error_code) == (event, recipient, code)
    assert normalised.provider_message_id == SAMPLES[sample]["MessageID"]
    assert normalised.timestamp.tzinfo is not None
    assert postmark.normalize(copy.deepcopy(SAMPLES[sample])).event_id == normalised.event_id  # a retry: same id


def test_bounce_keeps_postmark_words_and_type():
    normalised = postmark.normalize(SAMPLES["bounce-hard"])
    assert normalised.provider_event == "Bounce:HardBounce"
    assert normalised.reason == "smtp;550 5.1.1 The email account that you tried to reach does not exist."
    assert normalised.severity == "permanent" and normalised.event_id == "postmark.Bounce.42"


@pytest.mark.parametrize("kind,event", [("SoftBounce", "deferred"), ("Transient", "deferred"), ("Blocked", "failed"),
                                        ("AutoResponder", "unknown"), ("Unsubscribe", "unsubscribed")])
def test_bounce_types(kind, event):
    assert postmark.normalize({**SAMPLES["bounce-hard"], "Type": kind}).event == event


def test_metadata_message_id_is_ours_only_if_it_is_a_ulid():
    assert postmark.normalize(
        {**SAMPLES["delivery"], "Metadata": {"message_id": "01JD3Q6Z9W8X7V6T5S4R3Q2P1N"}}
    ).message_id
    assert postmark.normalize(SAMPLES["delivery"]).message_id is None


@pytest.mark.parametrize(
    "change,field",
    [
        ({"Recipient": "nobody"}, "Recipient"),
        ({"DeliveredAt": "yesterday"}, "DeliveredAt"),
        ({"DeliveredAt": "2025-04-05T16:33:54"}, "DeliveredAt"),
    ],
)
def test_malformed_records_name_the_field(change, field):
    with pytest.raises(BadRequest) as raised:
        postmark.normalize({**SAMPLES["delivery"], **change})
    assert [e.field for e in raised.value.errors] == [field]


def basic(user, password):
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize("headers,ok", [
    (basic("postmark", "s3cret-pass"), True), (basic("postmark", "wrong"), False), ({}, False),
    ({"authorization": "Basic !!!"}, False), ({"authorization": "Bearer x"}, False),
    (basic("postmark", "s3cret-pässword"), False),
])
def test_basic_auth(headers, ok):
    request = WebhookRequest(body=b"{}", headers=headers, url="https://x")
    if ok:
        postmark.verify({}, CREDENTIALS, request=request, max_age_seconds=300)
    else:
        with pytest.raises(Unauthorized):
            postmark.verify({}, CREDENTIALS, request=request, max_age_seconds=300)


def test_a_bounce_for_an_inactive_recipient_is_held_by_the_provider():
    hard = next(s["body"] for s in vectors("postmark")["samples"] if s["id"] == "bounce-hard")
    assert postmark.normalize(hard).held is None
    assert postmark.normalize({**hard, "Type": "InactiveRecipient"}).held == "bounce"
