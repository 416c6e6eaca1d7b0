"""POST /v1/webhooks/mailgun/{tenant}: verified, normalised, matched, idempotent, order-independent."""

from __future__ import annotations

import base64
import copy
import json
import time

import boto3
import pytest

from tests.support import (
    MAILGUN_KEY,
    Faults,
    mailgun_event,
    mailgun_payload,
    mailgun_signature,
    sendgrid_key,
    sendgrid_post,
    token,
    vectors,
)

READER = token(rights=["admin"])
MAILGUN = vectors("mailgun")


@pytest.fixture
def tenant(api):
    api.setup_tenant("acme")
    return api


def status_of(api, address, message_id):
    items = api.get(f"/v1/recipients/{address}/messages").json["items"]
    return {i["message_id"]: i for i in items}[message_id]


def test_delivered_event_updates_the_recipient_log(tenant):
    api = tenant
    message_id = api.record(recipients=[{"address": "pat@example.com"}], subject="Report card")
    reply = api.mailgun(mailgun_event("delivered", message_id=message_id))
    assert reply.status == 200
    assert reply.json["outcomes"] == {"LOG_OK": 1}
    row = status_of(api, "pat@example.com", message_id)
    assert row["status"] == "delivered"
    events = api.get("/v1/events").json["items"]
    assert [(e["event"], e["provider"], e["message_id"], e["subject"]) for e in events] == [
        ("delivered", "mailgun", message_id, "Report card")]


def test_bounce_shows_reason_and_severity(tenant):
    api = tenant
    message_id = api.record(recipients=[{"address": "gone@example.com", "person_id": "P9"}])
    data = mailgun_event("failed", "gone@example.com", message_id=message_id, severity="permanent", reason="bounce",
                         **{"delivery-status": {"code": 550, "message": "5.1.1 mailbox does not exist"}})
    assert api.mailgun(data).status == 200
    row = status_of(api, "gone@example.com", message_id)
    assert (row["status"], row["status_reason"]) == ("bounced", "5.1.1 mailbox does not exist")
    event = api.get("/v1/events?event=bounced").json["items"][0]
    assert (event["reason"], event["severity"], event["error_code"], event["person_id"]) == (
        "5.1.1 mailbox does not exist", "permanent", "550", "P9")


def test_matched_by_provider_message_id_when_no_user_variables(tenant):
    api = tenant
    message_id = api.record(recipients=[{"address": "pat@example.com", "provider_message_id": "20180622.1@mg.example"}])
    reply = api.mailgun(mailgun_event("opened", provider_message_id="20180622.1@mg.example"))
    assert reply.json["events"][0]["message_id"] == message_id
    assert status_of(api, "pat@example.com", message_id)["status"] == "opened"


def test_retried_event_is_a_duplicate(tenant):
    api = tenant
    message_id = api.record()
    data = mailgun_event("delivered", message_id=message_id, event_id="evt-1")
    payload = mailgun_payload(data)
    first = api.post("/v1/webhooks/mailgun/acme", payload, auth=None)
    again = api.post("/v1/webhooks/mailgun/acme", payload, auth=None)
    resigned = api.mailgun(data)  # a retry with a fresh signature
    assert first.json["outcomes"] == {"LOG_OK": 1}
    assert again.status == 200 and again.json["outcomes"] == {"NOLOG_DUPLICATE": 1}
    assert resigned.json["outcomes"] == {"NOLOG_DUPLICATE": 1}
    assert len(api.get("/v1/events").json["items"]) == 1


def test_an_event_that_changes_nothing_writes_nothing_to_its_delivery(api_with, monkeypatch):
    """A retry, or an older and lesser event: the delivery as read already holds it, so no
    conditional update is sent to fail (a failed one still costs a write unit). With the direct
    updates on (STATUS_DIRECT_MAX; 0 by default since issue 21: the status writer writes them all)."""
    api = api_with(STATUS_DIRECT_MAX="8")
    api.setup_tenant("acme")
    message_id = api.record()
    now = time.time()
    opened = mailgun_event("opened", message_id=message_id, at=now, event_id="evt-open")
    assert api.mailgun(opened).json["outcomes"] == {"LOG_OK": 1}
    faults = Faults(monkeypatch)
    assert api.mailgun(opened).json["outcomes"] == {"NOLOG_DUPLICATE": 1}
    assert api.mailgun(mailgun_event("delivered", message_id=message_id, at=now - 60)).json["outcomes"] \
        == {"LOG_OK": 1}
    assert [k for k in faults.keys if k[0] == "UpdateItem" and k[2].startswith("M#")] == []
    row = status_of(api, "pat@example.com", message_id)
    assert (row["status"], len(api.get("/v1/events").json["items"])) == ("opened", 2)
    later = mailgun_event("clicked", message_id=message_id, at=now + 60)
    assert api.mailgun(later).json["outcomes"] == {"LOG_OK": 1}
    assert [k[0] for k in faults.keys if k[2].startswith("M#")].count("UpdateItem") == 1  # news: one update
    assert status_of(api, "pat@example.com", message_id)["status"] == "clicked"


def test_reused_token_with_other_content_is_refused(tenant):
    api = tenant
    message_id = api.record()
    signature = mailgun_signature(MAILGUN_KEY)
    first = {"signature": signature, "event-data": mailgun_event("delivered", message_id=message_id)}
    forged = {"signature": signature, "event-data": mailgun_event("complained", message_id=message_id)}
    assert api.post("/v1/webhooks/mailgun/acme", first, auth=None).status == 200
    reply = api.post("/v1/webhooks/mailgun/acme", forged, auth=None)
    assert reply.status == 406 and reply.json["code"] == "NOLOG_REPLAYED_TOKEN"  # never accepted: Mailgun stops
    assert status_of(api, "pat@example.com", message_id)["status"] == "delivered"


def test_late_delivered_never_replaces_bounced_or_opened(tenant):
    api = tenant
    message_id = api.record(recipients=[{"address": "a@example.com"}, {"address": "b@example.com"}])
    now = time.time()
    api.mailgun(mailgun_event("failed", "a@example.com", message_id=message_id, at=now, severity="permanent",
                              reason="bounce"))
    api.mailgun(mailgun_event("opened", "b@example.com", message_id=message_id, at=now))
    api.mailgun(mailgun_event("delivered", "a@example.com", message_id=message_id, at=now + 60))
    api.mailgun(mailgun_event("delivered", "b@example.com", message_id=message_id, at=now + 60))
    assert status_of(api, "a@example.com", message_id)["status"] == "bounced"
    assert status_of(api, "b@example.com", message_id)["status"] == "opened"
    assert (
        status_of(api, "b@example.com", message_id)["last_event_at"]
        > status_of(api, "a@example.com", message_id)["created_at"]
    )


def test_events_before_the_message_are_linked_when_it_is_recorded(tenant):
    api = tenant
    early = api.mailgun(mailgun_event("delivered", "early@example.com", provider_message_id="pm-1@mg"))
    assert early.json["outcomes"] == {"NOLOG_UNMATCHED": 1}
    assert api.get("/v1/events").json["items"][0]["message_id"] is None  # kept, shown, not yet linked
    message_id = api.record(recipients=[{"address": "early@example.com", "provider_message_id": "pm-1@mg"}])
    assert status_of(api, "early@example.com", message_id)["status"] == "delivered"
    assert api.get("/v1/events").json["items"][0]["message_id"] == message_id
    detail = api.get(f"/v1/messages/{message_id}").json
    assert [e["event"] for e in detail["events"]] == ["delivered"]


def test_events_linked_when_provider_id_is_attached_later(tenant):
    api = tenant
    message_id = api.record(recipients=[{"address": "later@example.com"}])
    api.mailgun(mailgun_event("clicked", "later@example.com", provider_message_id="pm-2@mg"))
    reply = api.post(f"/v1/messages/{message_id}/recipients",
                     {"recipients": [{"address": "later@example.com", "provider_message_id": "pm-2@mg"}]},
                     auth=token(rights=["messages:write"]))
    assert reply.json["events_linked"] == 1
    assert status_of(api, "later@example.com", message_id)["status"] == "clicked"


def test_event_with_our_message_id_before_the_message_exists(tenant):
    """user-variables name a message id the back end has not finished recording (idempotent retry)."""
    api = tenant
    writer = token(rights=["messages:write"])
    body = {"channel": "email", "recipients": [{"address": "race@example.com"}]}
    first = api.post("/v1/messages", body, auth=writer, headers={"Idempotency-Key": "k1"}).json["message_id"]
    api.mailgun(mailgun_event("opened", "race@example.com", message_id=first))
    assert status_of(api, "race@example.com", first)["status"] == "opened"


def test_unknown_event_is_kept_and_changes_nothing(tenant):
    api = tenant
    message_id = api.record()
    api.mailgun(mailgun_event("delivered", message_id=message_id))
    reply = api.mailgun(mailgun_event("list_member_uploaded", message_id=message_id))
    assert reply.status == 200
    assert status_of(api, "pat@example.com", message_id)["status"] == "delivered"
    assert [(e["event"], e["provider_event"]) for e in api.get("/v1/events?event=unknown").json["items"]] == [
        ("unknown", "list_member_uploaded")]


def test_bad_signature_and_unknown_tenant_get_the_same_401(tenant):
    api = tenant
    data = mailgun_event("delivered")
    wrong_key = api.post("/v1/webhooks/mailgun/acme", mailgun_payload(data, key="key-wrong-wrong"), auth=None)
    no_tenant = api.post("/v1/webhooks/mailgun/nobody", mailgun_payload(data), auth=None)
    bad_tenant_id = api.post("/v1/webhooks/mailgun/no%23such", mailgun_payload(data), auth=None)
    assert wrong_key.status == no_tenant.status == bad_tenant_id.status == 401
    assert wrong_key.json == no_tenant.json == bad_tenant_id.json
    assert wrong_key.headers["content-type"] == "application/problem+json"
    assert api.get("/v1/events").json["items"] == []


def test_old_timestamp_is_refused(tenant):
    reply = tenant.mailgun(mailgun_event("delivered"), timestamp=str(int(time.time()) - 3600))
    assert reply.status == 401
    assert tenant.get("/v1/events").json["items"] == []


def test_official_vector_through_the_route_with_age_check_off(api_with):
    """source: vectors/mailgun.json composed_webhook_bodies (mailgun-php tuple + docs event-data)."""
    api = api_with(WEBHOOK_MAX_AGE_SECONDS="0")
    api.setup_tenant("acme")
    bodies = MAILGUN["composed_webhook_bodies"]
    message_id = api.record(recipients=[{"address": "john@example.com",
                                         "provider_message_id": "20180622182958.1.48906CB188F1A454@exmple.org"}])
    reply = api.post("/v1/webhooks/mailgun/acme", bodies["delivered"], auth=None)
    assert reply.status == 200, reply.json
    assert reply.json["events"][0]["message_id"] == message_id
    assert status_of(api, "john@example.com", message_id)["status"] == "delivered"
    replay = copy.deepcopy(bodies["failed_permanent"])
    if replay["signature"] == bodies["delivered"]["signature"]:  # same official tuple, other content: refused
        assert api.post("/v1/webhooks/mailgun/acme", replay, auth=None).status == 406


def test_official_vector_too_old_by_default(tenant):
    reply = tenant.post("/v1/webhooks/mailgun/acme", MAILGUN["composed_webhook_bodies"]["delivered"], auth=None)
    assert reply.status == 401


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b"null", b'{"signature": 1}', b"\xff\xfe\xfd",
                                 b'{"signature": {}, "event-data": []}'])
def test_malformed_bodies_are_406_which_mailgun_does_not_retry(tenant, raw):
    reply = tenant.post("/v1/webhooks/mailgun/acme", raw=raw, auth=None)
    assert reply.status == 406
    assert reply.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("field,value", [("recipient", "nobody"), ("timestamp", "soon"), ("event", 7), ("id", "")])
def test_malformed_event_data_names_the_field_is_406_and_writes_nothing(tenant, field, value):
    api = tenant
    message_id = api.record()
    data = mailgun_event("delivered", message_id=message_id)
    data[field] = value
    reply = api.mailgun(data)
    assert reply.status == 406 and f"event-data.{field}" in reply.fields
    assert api.get("/v1/events").json["items"] == []
    assert status_of(api, "pat@example.com", message_id)["status"] == "queued"


def test_unknown_provider_is_404(tenant):
    reply = tenant.post("/v1/webhooks/pigeon/acme", {"x": 1}, auth=None)
    assert reply.status == 404 and reply.headers["content-type"] == "application/problem+json"


def test_huge_body_is_406_which_mailgun_does_not_retry(tenant):
    raw = json.dumps({"signature": {}, "event-data": {"pad": "x" * (6 * 1024 * 1024)}}).encode()
    assert tenant.post("/v1/webhooks/mailgun/acme", raw=raw, auth=None).status == 406


def test_webhooks_never_log_addresses_or_signatures(tenant):
    api = tenant
    api.mailgun(mailgun_event("delivered", "secret.person@example.com"))
    api.post("/v1/webhooks/mailgun/acme", mailgun_payload(mailgun_event("x"), key="key-wrong-wrong"), auth=None)
    logged = api.output.getvalue()
    assert "secret.person@example.com" not in logged
    assert MAILGUN_KEY not in logged
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith('{"level"')]
    stored = [line for line in lines if line["message"] == "webhook stored"]
    assert stored and stored[0]["tenant_id"] == "acme" and stored[0]["outcomes"] == {"NOLOG_UNMATCHED": 1}
    assert stored[0]["correlation_id"]  # the API Gateway request id
    refused = [line for line in lines if line["message"] == "request refused"]
    assert refused and refused[0]["status"] == 401


# ------------------------------------------------------------------ Postmark
POSTMARK = {s["id"]: s["body"] for s in vectors("postmark")["samples"]}


def postmark_auth(user="postmark", password="s3cret-pass"):
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_postmark_records_through_the_route(api):
    api.call("PUT", "/v1/providers/postmark", {"username": "postmark", "password": "s3cret-pass"})
    message_id = api.record(recipients=[{"address": "john@example.com",
                                         "provider_message_id": POSTMARK["delivery"]["MessageID"]}])
    for sample in ("delivery", "open", "bounce-hard"):
        reply = api.post("/v1/webhooks/postmark/acme", POSTMARK[sample], auth=None, headers=postmark_auth())
        assert reply.status == 200, reply.json
        assert reply.json["events"][0]["message_id"] == message_id
    again = api.post("/v1/webhooks/postmark/acme", POSTMARK["open"], auth=None, headers=postmark_auth())
    assert again.json["outcomes"] == {"NOLOG_DUPLICATE": 1}
    assert status_of(api, "john@example.com", message_id)["status"] == "opened"  # opened outranks the bounce
    assert [e["event"] for e in api.get("/v1/events?order=asc").json["items"]] == ["bounced", "delivered", "opened"]


def test_postmark_bad_credentials_are_401_like_an_unknown_tenant(api):
    api.call("PUT", "/v1/providers/postmark", {"username": "postmark", "password": "s3cret-pass"})
    wrong = api.post(
        "/v1/webhooks/postmark/acme", POSTMARK["delivery"], auth=None, headers=postmark_auth(password="guess")
    )
    missing = api.post("/v1/webhooks/postmark/acme", POSTMARK["delivery"], auth=None)
    unknown = api.post("/v1/webhooks/postmark/nobody", POSTMARK["delivery"], auth=None, headers=postmark_auth())
    assert wrong.status == missing.status == unknown.status == 401
    assert wrong.json == missing.json == unknown.json
    assert api.get("/v1/events").json["items"] == []


# ------------------------------------------------------------------ Twilio
def twilio_post(api, params, token="twilio-auth-token", query=""):
    from urllib.parse import urlencode

    from msglog.providers.twilio import signature

    url = f"https://api.example.test/v1/webhooks/twilio/acme{query}"  # PUBLIC_BASE_URL in the tests
    return api.post(f"/v1/webhooks/twilio/acme{query}", raw=urlencode(params).encode(), auth=None,
                    content_type="application/x-www-form-urlencoded",
                    headers={"X-Twilio-Signature": signature(token, url, list(params.items()))})


def test_twilio_status_callbacks_through_the_route(api):
    api.call("PUT", "/v1/providers/twilio", {"auth_token": "twilio-auth-token"})
    sms = {"channel": "sms", "body": {"text": "Bus is late"}, "recipients": [{"address": "+1 555 867 5310"}]}
    message_id = api.post("/v1/messages", sms, auth=token(rights=["messages:write"])).json["message_id"]
    base = {"MessageSid": "SM0123456789abcdef0123456789abcdef", "To": "+15558675310", "AccountSid": "AC1"}
    sent = twilio_post(api, {**base, "MessageStatus": "sent"}, query=f"?message_id={message_id}")
    assert sent.status == 200 and sent.json["events"][0]["message_id"] == message_id
    failed = {**base, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert twilio_post(api, failed, query=f"?message_id={message_id}").json["outcomes"] == {"LOG_OK": 1}
    assert twilio_post(api, failed, query=f"?message_id={message_id}").json["outcomes"] == {"NOLOG_DUPLICATE": 1}
    row = status_of(api, "+15558675310", message_id)
    assert (row["status"], row["status_reason"]) == ("undelivered", "Unreachable destination handset")
    assert len(api.get("/v1/events").json["items"]) == 2


def test_twilio_signature_covers_the_url(api):
    api.call("PUT", "/v1/providers/twilio", {"auth_token": "twilio-auth-token"})
    params = {"MessageSid": "SM1", "MessageStatus": "sent", "To": "+15558675310"}
    assert twilio_post(api, params, token="another-token-123").status == 401
    from urllib.parse import urlencode

    from msglog.providers.twilio import signature

    forged = signature("twilio-auth-token", "https://api.example.test/v1/webhooks/twilio/acme", list(params.items()))
    reply = api.post(
        "/v1/webhooks/twilio/acme?message_id=01JD3Q6Z9W8X7V6T5S4R3Q2P1N",
        raw=urlencode(params).encode(),
        auth=None,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": forged},
    )
    assert reply.status == 401  # the query was added after signing


# ------------------------------------------------------------------ SendGrid
SENDGRID = vectors("sendgrid")


def test_sendgrid_batch_through_the_route(api):
    private, public = sendgrid_key()
    assert api.call("PUT", "/v1/providers/sendgrid", {"public_key": public}).status == 200
    message_id = api.record(
        recipients=[{"address": "example@test.com", "provider_message_id": "14c5d75ce93.dfd.64b469"}]
    )
    batch = SENDGRID["sample_event_batch"]["events"]
    reply = sendgrid_post(api, private, batch)
    assert reply.status == 200 and reply.json["outcomes"] == {"LOG_OK": len(batch)}
    retried = [{**event, "sg_event_id": f"retry-{n}"} for n, event in enumerate(batch)]
    again = sendgrid_post(api, private, retried + [{"event": "open"}])
    assert again.json["outcomes"] == {"NOLOG_DUPLICATE": len(batch), "NOLOG_MALFORMED": 1}
    assert again.json["malformed"][0]["index"] == len(batch)
    kept = api.get("/v1/ingestion-log").json["items"][0]["malformed"]  # kept raw, not dropped
    assert kept == [{"index": len(batch), "fields": f"[{len(batch)}].email, [{len(batch)}].timestamp",
                     "raw": '{"event":"open"}'}]
    assert status_of(api, "example@test.com", message_id)["status"] == "complained"
    assert len(api.get("/v1/events?limit=200").json["items"]) == len(batch)


def test_sendgrid_official_vector_through_the_route(api_with):
    """source: vectors/sendgrid.json multi-event-valid (sendgrid-python test_eventwebhook.py)."""
    api = api_with(WEBHOOK_MAX_AGE_SECONDS="0")
    vector = SENDGRID["signature_vectors"][1]
    api.call("PUT", "/v1/providers/sendgrid", {"public_key": vector["public_key_b64_der"]})
    headers = {"X-Twilio-Email-Event-Webhook-Signature": vector["signature_b64_der"],
               "X-Twilio-Email-Event-Webhook-Timestamp": vector["timestamp"]}
    body = base64.b64decode(vector["payload_b64"])
    reply = api.post("/v1/webhooks/sendgrid/acme", raw=body, auth=None, headers=headers)
    assert reply.status == 200 and reply.json["received"] == len(json.loads(body))
    tampered = api.post("/v1/webhooks/sendgrid/acme", raw=body.replace(b"gmail", b"gmall"), auth=None, headers=headers)
    assert tampered.status == 401


# ------------------------------------------------------------------ Amazon SES via SNS
SNS = vectors("ses_sns")


@pytest.fixture
def ses_api(api_with, tmp_path):
    from msglog.providers import ses

    (tmp_path / "SimpleNotificationService-TESTONLY.pem").write_text(SNS["constructed_signed_vectors"]["test_cert_pem"])
    ses.reset()
    api = api_with(SNS_SIGNING_CERTS_DIR=str(tmp_path))
    yield api
    ses.reset()


def sns_post(api, message, tenant="acme"):
    return api.post(f"/v1/webhooks/ses/{tenant}", raw=json.dumps(message).encode(), auth=None,
                    content_type="text/plain; charset=UTF-8", headers={"x-amz-sns-message-type": message["Type"]})


def test_ses_events_through_the_route(ses_api):
    api = ses_api
    vectors_by_id = {v["id"]: v["message"] for v in SNS["constructed_signed_vectors"]["vectors"]}
    bounce, delivery = vectors_by_id["ses-bounce-permanent-sv2"], vectors_by_id["ses-delivery-sv2"]
    api.call("PUT", "/v1/providers/ses", {"topic_arns": [bounce["TopicArn"]]})
    ses_message_id = json.loads(bounce["Message"])["mail"]["messageId"]
    message_id = api.record(recipients=[{"address": "recipient@example.com", "provider_message_id": ses_message_id}])
    for message in (delivery, bounce, bounce):
        assert sns_post(api, message).status == 200
    row = status_of(api, "recipient@example.com", message_id)
    assert (row["status"], row["status_reason"]) == ("bounced", "smtp; 550 5.1.1 user unknown")
    assert sorted(e["event"] for e in api.get("/v1/events").json["items"]) == ["bounced", "delivered"]


def test_ses_subscription_is_confirmed_only_for_the_tenants_topics(ses_api, monkeypatch):
    from tests.support import AwsCalls

    api = ses_api
    confirmation = next(v["message"] for v in SNS["constructed_signed_vectors"]["vectors"]
                        if v["id"] == "subscription-confirmation-sv1")
    calls = AwsCalls(monkeypatch)
    api.call("PUT", "/v1/providers/ses", {"topic_arns": ["arn:aws:sns:us-west-2:123456789012:not-this-one"]})
    refused = sns_post(api, confirmation)
    assert refused.status == 401
    assert not [c for c in calls.calls if c[1] == "sns:ConfirmSubscription"]
    api.call("PUT", "/v1/providers/ses", {"topic_arns": [confirmation["TopicArn"]]})
    assert sns_post(api, confirmation).status == 400  # the topic does not exist: SNS refuses the token
    region, name = confirmation["TopicArn"].split(":")[3], confirmation["TopicArn"].rsplit(":", 1)[1]
    boto3.client("sns", region_name=region).create_topic(Name=name)
    reply = sns_post(api, confirmation)
    assert reply.status == 200 and reply.json["outcomes"] == {"SUBSCRIPTION_CONFIRMED": 1}
    assert [c for c in calls.calls if c[1] == "sns:ConfirmSubscription"]


# ------------------------------------------------------------------ ingestion log
def test_every_webhook_request_has_an_outcome_in_the_ingestion_log(api):
    api.setup_tenant("acme")
    message_id = api.record(subject="Field trip permission", recipients=[{"address": "pat@example.com"}])
    data = mailgun_event("delivered", message_id=message_id)
    payload = mailgun_payload(data)
    api.post("/v1/webhooks/mailgun/acme", payload, auth=None)
    api.post("/v1/webhooks/mailgun/acme", payload, auth=None)
    api.mailgun(mailgun_event("opened", "stranger@example.com", provider_message_id="nobody@mg"))
    api.post("/v1/webhooks/mailgun/acme", mailgun_payload(mailgun_event("x"), key="key-wrong-wrong"), auth=None)
    api.post("/v1/webhooks/mailgun/acme", raw=b"{", auth=None)
    api.post("/v1/webhooks/mailgun/nobody", payload, auth=None)  # no such tenant: nothing to log to
    # A Mailgun request's row is placed at the second Mailgun signed (its key: docs/decisions.md, "One write
    # per single-event webhook"), so rows of one second may list in any order.
    log = api.get("/v1/ingestion-log?order=asc").json["items"]
    assert sorted(list(r["outcomes"]) for r in log) == [["LOG_OK"], ["NOLOG_BAD_SIGNATURE"], ["NOLOG_DUPLICATE"],
                                                        ["NOLOG_MALFORMED"], ["NOLOG_UNMATCHED"]]
    stored = next(r for r in log if "LOG_OK" in r["outcomes"])
    assert stored["events"][0] | {"subject": "Field trip permission", "recipient": "pat@example.com",
                                  "message_id": message_id} == stored["events"][0]
    found = api.get("/v1/ingestion-log?q=field%20trip").json["items"]
    assert sorted(list(r["outcomes"]) for r in found) == [["LOG_OK"], ["NOLOG_DUPLICATE"]]
    assert len(api.get("/v1/ingestion-log?outcome=nolog_unmatched").json["items"]) == 1
    assert api.get("/v1/ingestion-log", auth=token(rights=["logs:provider"])).status == 403
    assert api.get("/v1/ingestion-log", auth=token(rights=["logs:ingestion"])).status == 200


def test_privacy_mode_keeps_addresses_out_of_the_ingestion_log(api):
    api.setup_tenant("acme")
    api.call("PATCH", "/v1/tenant", {"privacy_mode": True})
    message_id = api.record(subject="Report card", recipients=[{"address": "private.person@example.com"}])
    api.mailgun(mailgun_event("delivered", "private.person@example.com", message_id=message_id))
    reply = api.get("/v1/ingestion-log")
    assert "private.person" not in reply.raw.decode()
    assert reply.json["items"][0]["events"][0]["subject"] == "Report card"


def test_privacy_mode_keeps_malformed_items_out_of_the_ingestion_log(api):
    private, public = sendgrid_key()
    api.call("PUT", "/v1/providers/sendgrid", {"public_key": public})
    api.call("PATCH", "/v1/tenant", {"privacy_mode": True})
    sendgrid_post(api, private, [{"event": "open", "email": "hidden.person@example"}])
    reply = api.get("/v1/ingestion-log")
    assert "hidden.person" not in reply.raw.decode()
    assert reply.json["items"][0]["malformed"] == [{"index": 0, "fields": "[0].email, [0].timestamp"}]


def test_a_flood_of_unsigned_requests_writes_a_bounded_number_of_refusals(api):
    """Anyone can post to a tenant's webhook URL: refusals are logged, but not one write per request."""
    from msglog.webhooks import REFUSALS_LOGGED_PER_MINUTE

    api.setup_tenant("acme")
    forged = mailgun_payload(mailgun_event("delivered"), key="key-wrong-wrong")
    answers = [api.post("/v1/webhooks/mailgun/acme", forged, auth=None).status
               for _ in range(REFUSALS_LOGGED_PER_MINUTE + 5)]
    assert set(answers) == {401}  # every one refused, logged or not
    log = api.get("/v1/ingestion-log?limit=200").json["items"]
    assert [list(r["outcomes"]) for r in log] == [["NOLOG_BAD_SIGNATURE"]] * REFUSALS_LOGGED_PER_MINUTE
