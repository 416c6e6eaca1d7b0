"""A single-event Mailgun webhook: its ingestion-log row is also its replay guard, one conditional write
keyed by what Mailgun signs (docs/decisions.md, "One write per single-event webhook (issue 21)")."""

from __future__ import annotations

import pytest

from tests.support import MAILGUN_KEY, Faults, mailgun_event, mailgun_signature

DYNAMODB = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
            "TransactWriteItems", "TransactGetItems"}


@pytest.fixture
def faults(api, monkeypatch):
    api.setup_tenant("acme")
    return Faults(monkeypatch)


def _post(api, signature, data):
    return api.post("/v1/webhooks/mailgun/acme", {"signature": signature, "event-data": data}, auth=None)


def _rows(api):
    return api.get("/v1/ingestion-log").json["items"]


def test_a_single_mailgun_event_takes_three_dynamodb_requests_and_one_row(api, faults):
    message_id = api.record(recipients=[{"address": "pat@example.com"}, {"address": "sam@example.com"}])
    api.mailgun(mailgun_event("delivered", "sam@example.com", message_id=message_id))  # warm: settings, keys
    faults.calls.clear()
    api.settle = False  # the webhook's own requests; the status writer's come after, off its path
    reply = api.mailgun(mailgun_event("delivered", "pat@example.com", message_id=message_id))
    assert reply.status == 200 and reply.json["outcomes"] == {"LOG_OK": 1}
    requests = {op: n for op, n in faults.calls.items() if op in DYNAMODB}
    # the row (and replay guard), the delivery and event read, the event written; the status: the writer's
    assert requests == {"PutItem": 1, "BatchGetItem": 1, "BatchWriteItem": 1}, requests
    assert faults.calls.get("SendMessageBatch") == 1
    assert api.settle_statuses() == 1
    detail = api.get(f"/v1/messages/{message_id}").json
    assert {r["address"]: r["status"] for r in detail["recipients"]} == {"pat@example.com": "delivered",
                                                                         "sam@example.com": "delivered"}
    assert detail["counts"]["delivered"] == 2
    rows = [r for r in _rows(api) if r["events"][0]["recipient"] == "pat@example.com"]
    assert [(r["outcomes"], r["events"][0]["message_id"]) for r in rows] == [({"LOG_OK": 1}, message_id)]


def test_a_replay_with_other_content_is_refused_by_the_row_and_stores_nothing(api, faults):
    message_id = api.record()
    signature = mailgun_signature(MAILGUN_KEY)
    assert _post(api, signature, mailgun_event("delivered", message_id=message_id)).status == 200
    faults.keys.clear()
    forged = _post(api, signature, mailgun_event("failed", message_id=message_id, severity="permanent",
                                                 reason="bounce"))
    assert forged.status == 406 and forged.json["code"] == "NOLOG_REPLAYED_TOKEN"
    assert not [k for k in faults.keys if k[0] in ("BatchWriteItem", "UpdateItem")]  # no event, no status
    assert api.get("/v1/suppressions").json["items"] == []
    assert sorted(list(r["outcomes"]) for r in _rows(api)) == [["LOG_OK"], ["NOLOG_REPLAYED_TOKEN"]]


@pytest.mark.parametrize(("failing", "code"), [("BatchWriteItem", "ProvisionedThroughputExceededException"),
                                               ("SendMessageBatch", "RequestThrottled")])
def test_a_fault_after_the_row_loses_nothing_and_the_retry_is_not_a_replay(api, faults, failing, code):
    """The row is written, then the event (or its status change) cannot be, and parking fails too: a 5xx.
    The provider's retry of the same request finds the row with the same content, and stores the event."""
    message_id = api.record()
    signature = mailgun_signature(MAILGUN_KEY)
    data = mailgun_event("opened", message_id=message_id)
    faults.fail(failing, times=50, code=code)
    faults.fail("PutObject", times=50, code="InternalError")
    assert _post(api, signature, data).status == 500
    assert [list(r["outcomes"]) for r in _rows(api)] == [["LOG_OK"]]  # the row went first
    faults.plan.clear()
    retry = _post(api, signature, data)
    assert retry.status == 200 and retry.json["events"][0]["message_id"] == message_id
    api.settle_statuses()
    assert api.get("/v1/recipients/pat@example.com/messages").json["items"][0]["status"] == "opened"
    assert len(api.get("/v1/events").json["items"]) == 1
    assert len(_rows(api)) == 2  # the retry's own row, as every request has


def test_a_fault_on_the_row_itself_parks_the_request_and_the_replay_writes_it(api, faults):
    message_id = api.record()
    faults.fail("PutItem", times=50)
    assert api.mailgun(mailgun_event("delivered", message_id=message_id)).status == 202
    assert _rows(api) == []
    faults.plan.clear()
    assert api.gateway.runtime.invoke("ReplayFunction", {"limit": 100})["replayed"] == 1
    api.settle_statuses()
    assert [r["outcomes"] for r in _rows(api)] == [{"LOG_OK": 1}]
    assert api.get("/v1/recipients/pat@example.com/messages").json["items"][0]["status"] == "delivered"
