"""Faults moto never produces: throttling and failures between the writes of one request."""

from __future__ import annotations

import pytest

from msglog import parking
from msglog.providers import WebhookRequest
from tests.support import Faults, mailgun_event, sendgrid_message, sendgrid_post, token


@pytest.fixture
def faults(api, monkeypatch):
    api.setup_tenant("acme")
    return Faults(monkeypatch)


def recipient(api, address):
    return api.get(f"/v1/recipients/{address}/messages").json["items"][0]


def test_throttling_is_absorbed_by_retries(api, faults):
    message_id = api.record()
    faults.fail("PutItem", times=3)
    faults.fail("UpdateItem", times=2)
    reply = api.mailgun(mailgun_event("delivered", message_id=message_id))
    assert reply.status == 200 and reply.json["outcomes"] == {"LOG_OK": 1}
    assert recipient(api, "pat@example.com")["status"] == "delivered"
    assert faults.plan == {"PutItem": [], "UpdateItem": []}  # every injected fault was hit


def replay(api):
    result = api.gateway.runtime.invoke("ReplayFunction", {"limit": 100})
    api.settle_statuses()  # what the replayed requests queued (a large SendGrid batch's status changes)
    return result


def test_persistent_throttling_parks_the_request_and_replay_stores_it(api, faults):
    message_id = api.record()
    data = mailgun_event("opened", message_id=message_id)
    faults.fail("SendMessageBatch", times=50, code="RequestThrottled")  # the event is stored; its status change
    # never gets through to the status writer
    reply = api.mailgun(data)
    assert reply.status == 202 and reply.json["outcomes"] == {"PARKED": 1}  # acknowledged: durable in S3
    faults.plan.clear()
    assert replay(api) == {"replayed": 1, "refused": 0, "failed": 0}
    assert replay(api) == {"replayed": 0, "refused": 0, "failed": 0}
    assert recipient(api, "pat@example.com")["status"] == "opened"
    assert len(api.get("/v1/events").json["items"]) == 1


def test_a_parked_request_still_failing_stays_parked(api, faults):
    message_id = api.record()
    faults.fail("BatchWriteItem", times=200)
    assert api.mailgun(mailgun_event("delivered", message_id=message_id)).status == 202
    assert replay(api) == {"replayed": 0, "refused": 0, "failed": 1}
    faults.plan.clear()
    assert replay(api) == {"replayed": 1, "refused": 0, "failed": 0}
    assert recipient(api, "pat@example.com")["status"] == "delivered"


def test_the_provider_gets_a_5xx_only_if_parking_fails_too(api, faults):
    message_id = api.record()
    faults.fail("BatchWriteItem", times=50)
    faults.fail("PutObject", times=50, code="InternalError")
    reply = api.mailgun(mailgun_event("delivered", message_id=message_id))
    assert reply.status == 500 and reply.headers["content-type"] == "application/problem+json"
    faults.plan.clear()
    assert api.mailgun(mailgun_event("delivered", message_id=message_id, event_id="again")).status == 200


def test_failure_before_linking_is_repaired_by_the_replay(api, faults):
    """The event is stored, then the write that parks it for later linking fails."""
    data = mailgun_event("delivered", "early@example.com", provider_message_id="pm-9@mg")
    faults.fail("UpdateItem", times=50)
    assert api.mailgun(data).status == 202
    faults.plan.clear()
    message_id = api.record(recipients=[{"address": "early@example.com", "provider_message_id": "pm-9@mg"}])
    assert recipient(api, "early@example.com")["status"] == "queued"  # nothing was noted to link
    assert replay(api)["replayed"] == 1
    assert recipient(api, "early@example.com")["status"] == "delivered"
    assert api.get("/v1/events").json["items"][0]["message_id"] == message_id


def test_message_half_written_then_retried_with_its_idempotency_key(api, faults):
    body = {"channel": "email", "subject": "Snow day", "body": {"text": "closed"},
            "recipients": [{"address": f"p{n}@example.com"} for n in range(40)]}
    writer = token(rights=["messages:write"])
    faults.fail("BatchWriteItem", times=50)
    reply = api.post("/v1/messages", body, auth=writer, headers={"Idempotency-Key": "snow-1"})
    assert reply.status == 503
    assert api.get("/v1/messages").json["items"] == []  # not listed half-written
    faults.plan.clear()
    retry = api.post("/v1/messages", body, auth=writer, headers={"Idempotency-Key": "snow-1"})
    assert retry.status == 201
    listed = api.get("/v1/messages").json["items"]
    assert [m["message_id"] for m in listed] == [retry.json["message_id"]]
    detail = api.get(f"/v1/messages/{retry.json['message_id']}?limit=200").json
    assert len(detail["recipients"]) == 40


def test_other_errors_are_a_500_problem_without_internals(api, faults):
    faults.fail("PutItem", times=1, code="InternalServerError")
    faults.fail("PutItem", times=50, code="ValidationException")
    reply = api.post("/v1/messages", {"channel": "email", "body": {"text": "x"}}, auth=token(rights=["messages:write"]))
    assert reply.status == 500
    assert reply.headers["content-type"] == "application/problem+json"
    assert "ValidationException" not in reply.raw.decode() and "Traceback" not in reply.raw.decode()
    assert "unhandled error" in api.output.getvalue()  # logged for us, with its traceback


def test_sendgrid_batch_failing_midway_is_complete_after_the_replay(api, faults):
    private, message_id, batch = sendgrid_message(api, 60, event_ids="first")
    faults.fail("BatchWriteItem", times=50, after=1)  # one write of events (25, 25 or 10) goes through, then they fail
    assert sendgrid_post(api, private, batch).status == 202  # parked whole
    faults.plan.clear()
    written = len(api.get("/v1/events?limit=200").json["items"])
    assert written in (10, 25)
    assert replay(api) == {"replayed": 1, "refused": 0, "failed": 0}
    log = api.get("/v1/ingestion-log").json["items"][0]
    assert log["outcomes"] == {"NOLOG_DUPLICATE": written, "LOG_OK": 60 - written}  # stored before it failed
    detail = api.get(f"/v1/messages/{message_id}?limit=200").json
    assert {r["status"] for r in detail["recipients"]} == {"delivered"}
    assert len(api.get("/v1/events?limit=200").json["items"]) == 60


def test_errors_a_replay_would_meet_again_are_not_parked(api, faults):
    message_id = api.record()
    faults.fail("BatchWriteItem", times=50, code="ValidationException")
    reply = api.mailgun(mailgun_event("delivered", message_id=message_id))
    assert reply.status == 500  # not acknowledged: Mailgun retries, and the error shows in our logs
    assert replay(api) == {"replayed": 0, "refused": 0, "failed": 0}


def test_a_parked_request_refused_on_replay_is_moved_aside(api, faults):
    import boto3

    from local.provision import physical_name
    from tests.support import MAILGUN_KEY, mailgun_signature

    message_id = api.record()
    signature = mailgun_signature(MAILGUN_KEY)
    faults.fail("PutItem", times=50)  # the token cannot be remembered: parked
    first = {"signature": signature, "event-data": mailgun_event("delivered", message_id=message_id)}
    assert api.post("/v1/webhooks/mailgun/acme", first, auth=None).status == 202
    faults.plan.clear()
    other = {"signature": signature, "event-data": mailgun_event("complained", message_id=message_id)}
    assert api.post("/v1/webhooks/mailgun/acme", other, auth=None).status == 200  # the token's first use wins
    assert replay(api) == {"replayed": 0, "refused": 1, "failed": 0}
    kept = boto3.client("s3").list_objects_v2(Bucket=physical_name("ParkedWebhooks").lower(), Prefix="refused/")
    assert kept["KeyCount"] == 1
    assert replay(api) == {"replayed": 0, "refused": 0, "failed": 0}


def test_a_parked_request_of_a_provider_the_service_no_longer_has_is_moved_aside(api, faults):
    request = WebhookRequest(b"{}", {"content-type": "application/json"}, "https://api.example.test/v1/webhooks/x/acme")
    parking.park("acme", "retired-provider", request, None)
    assert replay(api) == {"replayed": 0, "refused": 1, "failed": 0}
    assert replay(api) == {"replayed": 0, "refused": 0, "failed": 0}  # not retried for ever
