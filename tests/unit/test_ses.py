"""SNS signatures (AWS's real signed messages and the constructed SES vectors) and SES mapping."""

from __future__ import annotations

import copy
import json

import pytest

from msglog.errors import BadRequest, Unauthorized
from msglog.providers import WebhookRequest, ses
from tests.support import vectors

SNS = vectors("ses_sns")
REAL = SNS["real_signed_vectors"]
CONSTRUCTED = SNS["constructed_signed_vectors"]
SES_EVENTS = SNS["ses_event_publishing_samples"]["events"]


@pytest.fixture(autouse=True)
def offline_certificates(tmp_path, monkeypatch):
    """The certificates, provisioned offline under their URL's file name (no network here)."""
    (tmp_path / "SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem").write_text(REAL["signing_cert_pem"])
    (tmp_path / "SimpleNotificationService-TESTONLY.pem").write_text(CONSTRUCTED["test_cert_pem"])
    monkeypatch.setenv("SNS_SIGNING_CERTS_DIR", str(tmp_path))
    ses.reset()
    yield
    ses.reset()


def check(message, topics=None):
    request = WebhookRequest(json.dumps(message).encode(), {"content-type": "text/plain"}, "https://x")
    payload = ses.read(request)
    topic_arns = topics if topics is not None else [payload["TopicArn"]]
    ses.verify(payload, [{"topic_arns": topic_arns}], request=request, max_age_seconds=300)
    return payload


@pytest.mark.parametrize("vector", REAL["vectors"] + CONSTRUCTED["vectors"], ids=lambda v: v["id"])
def test_signed_messages_verify(vector):
    """source: AWS's real signed messages (aws-php-sns-message-validator tests) and the constructed
    SES vectors (test key) of vectors/ses_sns.json; the real certificate expired on 2022-08-17."""
    payload = check(vector["message"])
    if "string_to_sign" in vector:
        assert ses.string_to_sign(payload) == vector["string_to_sign"]


@pytest.mark.parametrize(
    "vector",
    REAL["negative_vectors"] + CONSTRUCTED["negative_vectors"],
    ids=lambda v: v["id"] + v["message"].get("SigningCertURL", v["message"].get("SigningCertUrl", ""))[-20:],
)
def test_tampered_or_misdirected_messages_are_refused(vector):
    with pytest.raises((Unauthorized, BadRequest)):
        check(vector["message"])


def test_a_validly_signed_message_from_another_topic_is_refused():
    with pytest.raises(Unauthorized):
        check(REAL["vectors"][0]["message"], topics=["arn:aws:sns:us-east-2:295079676684:someone-else"])


@pytest.mark.parametrize("url", ["http://sns.us-east-1.amazonaws.com/SimpleNotificationService-TESTONLY.pem",
                                 "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-TESTONLY.pem",
                                 "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-TESTONLY.pem",
                                 "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-TESTONLY.txt",
                                 "https://s3.amazonaws.com/SimpleNotificationService-TESTONLY.pem"])
def test_certificate_urls_outside_sns_are_refused_before_any_download(url):
    message = {**CONSTRUCTED["vectors"][0]["message"], "SigningCertURL": url}
    with pytest.raises(Unauthorized):
        check(message)
    assert not ses._certificates


@pytest.mark.parametrize("record,event,reason,code", [
    ("Bounce record", "bounced", "smtp; 550 5.1.1 user unknown", "5.1.1"),
    ("Complaint record", "complained", "abuse", None),
    ("Delivery record", "delivered", None, None),
    ("Send record", "accepted", None, None),
    ("Reject record", "rejected", "Bad content", None),
    ("Open record", "opened", None, None),
    ("Click record", "clicked", None, None),
    ("Rendering Failure record", "failed", "Attribute 'attributeName' is not present in the rendering data.", None),
    ("DeliveryDelay record", "deferred", "smtp; 421 4.4.1 Unable to connect to remote host", "4.4.1"),
    ("Subscription record", "unsubscribed", None, None),
])
def test_every_ses_event_type_normalises(record, event, reason, code):
    """source: vectors/ses_sns.json ses_event_publishing_samples (amazon-ses-developer-guide)."""
    envelope = {"Type": "Notification", "MessageId": "m-1", "Message": json.dumps(SES_EVENTS[record])}
    [normalised] = ses.normalize(envelope)
    assert (normalised.event, normalised.reason, normalised.error_code) == (event, reason, code)
    assert normalised.provider_message_id == SES_EVENTS[record]["mail"]["messageId"]
    assert normalised.event_id == "ses.m-1.0"


@pytest.mark.parametrize("kind,event", [("Transient", "deferred"), ("Undetermined", "failed")])
def test_bounce_kinds(kind, event):
    record = copy.deepcopy(SES_EVENTS["Bounce record"])
    record["bounce"]["bounceType"] = kind
    assert ses.normalize({"MessageId": "m", "Message": json.dumps(record)})[0].event == event


def test_a_bounce_type_that_is_not_text_is_a_failure_not_a_crash():
    record = copy.deepcopy(SES_EVENTS["Bounce record"])
    record["bounce"]["bounceType"] = ["Permanent"]
    [event] = ses.normalize({"MessageId": "m", "Message": json.dumps(record)})
    assert event.event == "failed"


def test_identity_notifications_normalise_too():
    notifications = SNS["ses_identity_notification_samples"]["notifications"]
    [bounce] = ses.normalize({"MessageId": "m", "Message": json.dumps(notifications["Bounce notification with a DSN"])})
    assert (bounce.event, bounce.recipient, bounce.error_code) == ("bounced", "jane@example.com", "5.1.1")


def test_our_message_id_comes_from_a_message_tag():
    record = copy.deepcopy(SES_EVENTS["Delivery record"])
    record["mail"]["tags"]["message_id"] = ["01JD3Q6Z9W8X7V6T5S4R3Q2P1N"]
    assert (
        ses.normalize({"MessageId": "m", "Message": json.dumps(record)})[0].message_id == "01JD3Q6Z9W8X7V6T5S4R3Q2P1N"
    )


def test_lambda_style_keys_are_accepted():
    vector = next(v for v in REAL["vectors"] if "SigningCertUrl" in v["message"])
    assert check(vector["message"])["SigningCertURL"].endswith(".pem")
