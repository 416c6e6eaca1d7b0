"""Issue 20, "Hold the trust boundary" (webhooks): what a signature vouches for, what a stored event
may hold, and who owns a provider message id."""

from __future__ import annotations

import base64
import json
import time
import uuid

import boto3
import pytest

from local.provision import physical_name
from tests.support import (
    MAILGUN_KEY,
    Faults,
    mailgun_event,
    mailgun_signature,
    sendgrid_key,
    sendgrid_message,
    token,
)

ADMIN = token(rights=["admin"])


def suppressed(api):
    return [item["address"] for item in api.get("/v1/suppressions", auth=ADMIN).json["items"]]


def bounce_of(address):
    return mailgun_event("failed", address, severity="permanent", reason="bounce",
                         **{"delivery-status": {"code": 550, "message": "5.1.1 mailbox does not exist"}})


# ------------------------------------------------------------------ 1. what a Mailgun signature covers
@pytest.mark.parametrize("max_age,moved", [
    ("300", "e0"),  # the case: `ts + "e0"` still reads as the same time, with float()
    ("0", "e0"),
    ("0", "7"),  # digits moved from the token: the time becomes absurd, and the signed string is the same
])
def test_a_captured_mailgun_signature_re_split_carries_no_forged_event(api_with, max_age, moved):
    api = api_with(WEBHOOK_MAX_AGE_SECONDS=max_age)
    api.setup_tenant("acme")
    signature = mailgun_signature(MAILGUN_KEY, token_=moved + uuid.uuid4().hex[: 50 - len(moved)])
    genuine = api.post("/v1/webhooks/mailgun/acme", {"signature": signature, "event-data": mailgun_event("delivered")},
                       auth=None)
    assert genuine.status == 200, genuine.raw
    re_split = {**signature, "timestamp": signature["timestamp"] + moved, "token": signature["token"][len(moved):]}
    forged = api.post("/v1/webhooks/mailgun/acme", {"signature": re_split, "event-data": bounce_of("ceo@example.com")},
                      auth=None)
    assert forged.status == 401, forged.raw
    assert suppressed(api) == []
    assert [e["event"] for e in api.get("/v1/events", auth=ADMIN).json["items"]] == ["delivered"]


def test_a_re_split_that_keeps_a_plausible_time_is_a_replay_of_what_was_signed(api_with):
    """The last digit of the timestamp moved onto the token: a 1970s time (the age check is off) and a
    new token — but the same signed string, already seen with other content."""
    api = api_with(WEBHOOK_MAX_AGE_SECONDS="0")
    api.setup_tenant("acme")
    signature = mailgun_signature(MAILGUN_KEY)
    assert api.post("/v1/webhooks/mailgun/acme", {"signature": signature, "event-data": mailgun_event("delivered")},
                    auth=None).status == 200
    re_split = {**signature, "timestamp": signature["timestamp"][:-1],
                "token": signature["timestamp"][-1] + signature["token"]}
    forged = api.post("/v1/webhooks/mailgun/acme", {"signature": re_split, "event-data": bounce_of("ceo@example.com")},
                      auth=None)
    assert forged.status == 406 and forged.json["code"] == "NOLOG_REPLAYED_TOKEN", forged.raw
    assert suppressed(api) == []


def test_a_retry_of_the_same_mailgun_request_is_still_taken(api):
    api.setup_tenant("acme")
    payload = {"signature": mailgun_signature(MAILGUN_KEY), "event-data": mailgun_event("delivered")}
    assert api.post("/v1/webhooks/mailgun/acme", payload, auth=None).json["outcomes"] == {"NOLOG_UNMATCHED": 1}
    again = api.post("/v1/webhooks/mailgun/acme", payload, auth=None)
    assert again.status == 200 and again.json["outcomes"] == {"NOLOG_DUPLICATE": 1}


def sendgrid_signed(api, private, events, timestamp):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    body = (json.dumps(events) + "\r\n").encode()
    signature = base64.b64encode(private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
    return api.post("/v1/webhooks/sendgrid/acme", raw=body, auth=None, headers={
        "X-Twilio-Email-Event-Webhook-Signature": signature, "X-Twilio-Email-Event-Webhook-Timestamp": timestamp})


def absurd_timestamps():
    now = int(time.time())
    return {"nan": "nan", "NaN": "NaN", "exponent": f"{now}e0", "spaces": f" {now} ", "fraction": f"{now}.5",
            "underscore": f"{now // 1000}_{now % 1000:03}", "far future": "99999999999"}


@pytest.mark.parametrize("max_age", ["300", "0"])
@pytest.mark.parametrize("kind", sorted(absurd_timestamps()))
@pytest.mark.parametrize("provider", ["mailgun", "sendgrid"])
def test_signed_timestamps_that_are_not_plain_unix_seconds_are_refused_like_stale_ones(api_with, provider, kind,
                                                                                      max_age):
    api = api_with(WEBHOOK_MAX_AGE_SECONDS=max_age)
    api.setup_tenant("acme")
    private, public = sendgrid_key()
    assert api.call("PUT", "/v1/providers/sendgrid", {"public_key": public}).status == 200
    timestamp = absurd_timestamps()[kind]

    def post(at):
        if provider == "mailgun":
            return api.post("/v1/webhooks/mailgun/acme", {"signature": mailgun_signature(MAILGUN_KEY, timestamp=at),
                                                          "event-data": bounce_of("ceo@example.com")}, auth=None)
        return sendgrid_signed(api, private, [{"email": "ceo@example.com", "event": "bounce", "type": "bounce",
                                               "timestamp": 1_790_000_000}], at)

    reply = post(timestamp)
    assert reply.status == 401, reply.raw
    assert reply.json["detail"] == "the webhook timestamp is too old (or in the future)"
    assert suppressed(api) == [] and api.get("/v1/events", auth=ADMIN).json["items"] == []
    if max_age != "0":  # the same answer as a stale one
        assert post(str(int(time.time()) - 3600)).json == reply.json


# ------------------------------------------------------------------ 2. what a stored event may hold
def malformed_kept():
    listed = boto3.client("s3").list_objects_v2(Bucket=physical_name("ParkedWebhooks").lower(), Prefix="malformed/")
    return [item["Key"] for item in listed.get("Contents", [])]


def test_one_oversized_field_in_a_signed_batch_is_kept_raw_and_the_rest_stored(api):
    """The issue's case: a 450 KB `type` in one event of 60 made DynamoDB refuse the item — a 500 on every
    retry, 59 events listed, statuses unchanged, no ingestion-log row."""
    private, message_id, events = sendgrid_message(api, 60)
    events[17] = {**events[17], "event": "bounce", "type": "x" * 450_000, "reason": "550 no such user"}
    timestamp = str(int(time.time()))
    first = sendgrid_signed(api, private, events, timestamp)
    assert first.status == 200, first.raw[:500]
    assert first.json["outcomes"] == {"LOG_OK": 59, "NOLOG_MALFORMED": 1}
    assert first.json["malformed"] == [{"index": 17, "errors": [
        {"field": "[17].type", "message": "is longer than 128 characters"}]}]
    listed = api.get("/v1/events?limit=100", auth=ADMIN).json["items"]
    assert sorted(e["recipient"] for e in listed) == sorted(f"p{n}@example.com" for n in range(60) if n != 17)
    detail = api.get(f"/v1/messages/{message_id}", auth=ADMIN).json
    recipients = {r["address"]: r["status"] for r in detail["recipients"]}
    assert recipients.pop("p17@example.com") == "queued" and set(recipients.values()) == {"delivered"}
    log = api.get("/v1/ingestion-log", auth=ADMIN).json["items"]
    assert [row["outcomes"] for row in log] == [{"LOG_OK": 59, "NOLOG_MALFORMED": 1}]
    kept = log[0]["malformed"][0]
    assert (kept["index"], kept["fields"], len(kept["raw"])) == (17, "[17].type", 2000)
    [key] = malformed_kept()
    whole = boto3.client("s3").get_object(Bucket=physical_name("ParkedWebhooks").lower(), Key=key)["Body"].read()
    assert kept["raw_key"] == key and json.loads(whole) == events[17]

    retry = sendgrid_signed(api, private, events, timestamp)  # SendGrid's retry: the same request
    assert retry.status == 200 and retry.json["outcomes"] == {"NOLOG_DUPLICATE": 59, "NOLOG_MALFORMED": 1}
    assert len(api.get("/v1/events?limit=100", auth=ADMIN).json["items"]) == 59
    assert malformed_kept() == [key]  # kept once


def test_in_privacy_mode_an_oversized_item_is_not_kept(api):
    private, _, events = sendgrid_message(api, 2)
    assert api.call("PATCH", "/v1/tenant", {"privacy_mode": True}).status == 200
    events[1] = {**events[1], "event": "x" * 10_000}
    reply = sendgrid_signed(api, private, events, str(int(time.time())))
    assert reply.json["outcomes"] == {"LOG_OK": 1, "NOLOG_MALFORMED": 1}
    assert reply.json["malformed"][0]["errors"][0]["field"] == "[1].event"
    assert malformed_kept() == []
    assert "raw" not in api.get("/v1/ingestion-log", auth=ADMIN).json["items"][0]["malformed"][0]


@pytest.mark.parametrize("change,field", [
    ({"event": "x" * 450_000}, "event-data.event"),
    ({"delivery-status": {"code": "5" * 450_000, "message": "no"}}, "event-data.delivery-status.code"),
])
def test_an_oversized_field_in_a_single_event_is_a_406_naming_it_every_time(api, change, field):
    api.setup_tenant("acme")
    data = {**bounce_of("pat@example.com"), **change}
    for _ in range(2):  # the same answer every time, never a 500; 406: Mailgun does not retry it
        reply = api.mailgun(data)
        assert reply.status == 406 and reply.fields == [field], reply.raw[:500]
    assert api.get("/v1/events", auth=ADMIN).json["items"] == [] and suppressed(api) == []


def test_an_ingestion_record_of_long_subjects_stays_storable(aws):
    """100 events whose subjects are 998 four-byte characters: listed in full, the record would pass
    DynamoDB's 400 KB — and fail the same way on every retry."""
    from msglog import ingestion_log
    from msglog.ingest import Outcome
    from msglog.models import IngestionRecord

    outcomes = [Outcome(f"ses.m-{n}", "LOG_OK", event="delivered", subject="\U0001F600" * 998,
                        recipient=f"p{n}@example.com") for n in range(100)]
    ingestion_log.record("acme", "ses", "r-1", {"LOG_OK": 100}, outcomes)
    [stored] = list(IngestionRecord.scan())
    assert stored.outcomes.as_dict() == {"LOG_OK": 100}
    assert 0 < len(stored.events) < 100 and stored.events[0]["subject"] == "\U0001F600" * 998


# ------------------------------------------------------------------ 3. who owns a provider message id
SCHOOL_1 = token(rights=["messages:write"], org_units=("school-1",), sub="u-school-1")
SCHOOL_2 = token(rights=["messages:write"], org_units=("school-2",), sub="u-school-2")
CLAIMED = "recipients[0].provider_message_id"


def record(api, writer, org_unit, recipients, **extra):
    return api.post("/v1/messages", {"channel": "email", "org_unit": org_unit, "subject": f"News of {org_unit}",
                                     "recipients": recipients, **extra}, auth=writer)


def test_another_message_cannot_capture_a_recorded_provider_message_id(api):
    api.setup_tenant("acme")
    owner = record(api, SCHOOL_1, "school-1", [{"address": "pat@example.com", "provider_message_id": "pm-1@mg"}])
    assert owner.status == 201
    early = api.mailgun(mailgun_event("delivered", "kim@example.com", provider_message_id="pm-1@mg"))
    assert early.json["outcomes"] == {"NOLOG_UNMATCHED": 1}  # kim's delivery is not recorded yet: pending
    capture = record(api, SCHOOL_2, "school-2", [{"address": "kim@example.com", "provider_message_id": "<pm-1@mg>"},
                                                 {"address": "pat@example.com", "provider_message_id": "pm-1@mg"}])
    assert capture.status == 409, capture.raw
    assert capture.fields == [CLAIMED, "recipients[1].provider_message_id"]
    assert owner.json["message_id"] not in capture.raw.decode()  # another unit's message is not named
    assert [m["message_id"] for m in api.get("/v1/messages", auth=ADMIN).json["items"]] == [owner.json["message_id"]]
    later = api.mailgun(mailgun_event("opened", "pat@example.com", provider_message_id="pm-1@mg"))
    assert later.json["events"][0]["message_id"] == owner.json["message_id"]
    kim = api.post(f"/v1/messages/{owner.json['message_id']}/recipients",
                   {"recipients": [{"address": "kim@example.com", "provider_message_id": "pm-1@mg"}]}, auth=SCHOOL_1)
    assert kim.status == 200 and kim.json["events_linked"] == 1
    events = api.get("/v1/events", auth=ADMIN).json["items"]
    assert {(e["recipient"], e["message_id"], e["subject"]) for e in events} == {
        ("kim@example.com", owner.json["message_id"], "News of school-1"),
        ("pat@example.com", owner.json["message_id"], "News of school-1")}


def test_a_provider_message_id_cannot_be_attached_to_another_message_later(api):
    api.setup_tenant("acme")
    owner = record(api, SCHOOL_1, "school-1", [{"address": "pat@example.com", "provider_message_id": "pm-2@mg"}])
    other = record(api, SCHOOL_2, "school-2", [{"address": "pat@example.com"}]).json["message_id"]
    reply = api.post(f"/v1/messages/{other}/recipients",
                     {"recipients": [{"address": "pat@example.com", "provider_message_id": "pm-2@mg"}]}, auth=SCHOOL_2)
    assert reply.status == 409 and reply.fields == [CLAIMED], reply.raw
    event = api.mailgun(mailgun_event("clicked", "pat@example.com", provider_message_id="pm-2@mg"))
    assert event.json["events"][0]["message_id"] == owner.json["message_id"]
    rows = {r["message_id"]: r for r in api.get("/v1/recipients/pat@example.com/messages", auth=ADMIN).json["items"]}
    assert (rows[owner.json["message_id"]]["status"], rows[other]["status"]) == ("clicked", "queued")


def test_the_owner_may_record_its_provider_message_id_again(api, monkeypatch):
    api.setup_tenant("acme")
    both = [{"address": "pat@example.com", "provider_message_id": "pm-3@mg"},
            {"address": "kim@example.com", "provider_message_id": "pm-3@mg"}]  # one send to two: one id
    faults = Faults(monkeypatch)
    faults.fail("BatchWriteItem", code="ValidationException")  # the first attempt fails after its claim
    keyed = {"channel": "email", "org_unit": "school-1", "recipients": both}
    failed = api.post("/v1/messages", keyed, auth=SCHOOL_1, headers={"Idempotency-Key": "send-7"})
    retried = api.post("/v1/messages", keyed, auth=SCHOOL_1, headers={"Idempotency-Key": "send-7"})
    repeated = api.post("/v1/messages", keyed, auth=SCHOOL_1, headers={"Idempotency-Key": "send-7"})
    assert (failed.status, retried.status, repeated.status) == (500, 201, 200), retried.raw
    message_id = retried.json["message_id"]
    assert repeated.json["message_id"] == message_id
    attached = api.post(f"/v1/messages/{message_id}/recipients", {"recipients": both}, auth=SCHOOL_1)
    assert attached.status == 200 and attached.json["updated"] == 2
    another = api.post("/v1/messages", keyed, auth=SCHOOL_1)  # a new message (no key): not the owner
    assert another.status == 409 and another.fields == [CLAIMED, "recipients[1].provider_message_id"]


def test_a_claim_whose_message_was_never_recorded_is_taken_over(api):
    from datetime import timedelta

    from msglog import keys
    from msglog.clock import iso, now
    from msglog.models import ProviderMessageClaim

    api.setup_tenant("acme")
    never_recorded = "01JBXXXXXXXXXXXXXXXXXXXXXX"  # a recording that failed half way, two hours ago
    ProviderMessageClaim(keys.provider_message_claim_pk("acme", "pm-5@mg"), keys.CLAIM_SK, message_id=never_recorded,
                         claimed_at=iso(now() - timedelta(hours=2))).save()
    reply = record(api, SCHOOL_1, "school-1", [{"address": "pat@example.com", "provider_message_id": "pm-5@mg"}])
    assert reply.status == 201, reply.raw
