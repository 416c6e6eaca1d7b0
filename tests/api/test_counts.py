"""A message's `counts` on its sent-log row and its detail (msglog.counts): each delivery counted once by its
current status, whatever the events' order, retries and path (updated at once or by the status writer), a
writer's batch retried after part of it was written, recipients added later, an erasure and a cancel."""

from __future__ import annotations

import pytest

from tests.support import Faults, mailgun_event, token

READER = token(rights=["logs:sent"])
WRITER = token(rights=["messages:write"])
ZERO = dict.fromkeys(("recipients", "pending", "sent", "delivered", "failed", "opened", "clicked", "unsubscribed",
                      "complained"), 0)
FAILED = {"severity": "permanent", "reason": "bounce"}


def counted(**given: int) -> dict[str, int]:
    return {**ZERO, **given}


def counts(api, message_id: str) -> dict[str, int]:
    """The message's counts on its detail, which must be its sent-log row's too."""
    detail = api.get(f"/v1/messages/{message_id}", auth=READER)
    assert detail.status == 200, detail.raw
    listed = api.get("/v1/messages?limit=100", auth=READER).json["items"]
    [row] = [item for item in listed if item["message_id"] == message_id]
    assert row["counts"] == detail.json["counts"]
    return detail.json["counts"]


EVENTS = [("a", "delivered", {}), ("a", "opened", {}), ("b", "delivered", {}), ("b", "clicked", {}),
          ("c", "failed", FAILED), ("d", "deferred", {}), ("e", "delivered", {}), ("e", "complained", {})]
ORDERS = {"as they happened": list(range(8)), "reversed": list(reversed(range(8))), "mixed": [5, 3, 7, 0, 4, 1, 6, 2]}


@pytest.mark.parametrize("direct_max", ["8", "0"], ids=["updated at once", "by the status writer"])
@pytest.mark.parametrize("order", list(ORDERS))
def test_counts_follow_the_events_in_any_order(api_with, direct_max, order):
    api = api_with(STATUS_DIRECT_MAX=direct_max)
    api.setup_tenant("acme")
    message_id = api.record(recipients=[{"address": f"{n}@example.com"} for n in "abcdef"])
    assert counts(api, message_id) == counted(recipients=6, pending=6)
    for index in ORDERS[order]:
        who, event, extra = EVENTS[index]
        # the events' own times say what happened first; they arrive in `order`
        assert api.mailgun(mailgun_event(event, f"{who}@example.com", message_id=message_id,
                                         at=1_700_000_000 + index, **extra)).status == 200
    assert counts(api, message_id) == counted(recipients=6, pending=2, sent=3, opened=1, clicked=1, complained=1,
                                              failed=1)


def test_retried_events_count_once(api):
    api.setup_tenant("acme")
    message_id = api.record()
    event = mailgun_event("delivered", message_id=message_id)
    for _ in range(3):
        assert api.mailgun(event).status == 200
    assert counts(api, message_id) == counted(recipients=1, sent=1, delivered=1)


def test_a_delivery_moving_from_bucket_to_bucket_moves_one_count(api):
    api.setup_tenant("acme")
    message_id = api.record(recipients=[{"address": "pat@example.com"}, {"address": "sam@example.com"}])
    assert counts(api, message_id) == counted(recipients=2, pending=2)
    api.mailgun(mailgun_event("delivered", message_id=message_id))
    assert counts(api, message_id) == counted(recipients=2, pending=1, sent=1, delivered=1)
    api.mailgun(mailgun_event("opened", message_id=message_id))
    assert counts(api, message_id) == counted(recipients=2, pending=1, sent=1, opened=1)


def test_a_writer_batch_retried_after_part_of_it_was_written_counts_once(api_with, monkeypatch):
    """Two messages' changes in one batch of the writer: two transactions; the first is written, the second
    is canceled (a conflict), so the batch fails, comes back and is applied again."""
    api = api_with(STATUS_DIRECT_MAX="0")
    api.setup_tenant("acme")
    first, second = api.record(), api.record()
    api.settle = False
    api.mailgun(mailgun_event("delivered", message_id=first))
    api.mailgun(mailgun_event("failed", message_id=second, **FAILED))
    faults = Faults(monkeypatch)
    faults.fail("TransactWriteItems", after=1, code="TransactionCanceledException", fields={"CancellationReasons": [
        {"Code": "None"}, {"Code": "None"}, {"Code": "TransactionConflict", "Message": "Transaction is ongoing"}]})
    assert api.settle_statuses() > 2  # the batch, then again
    assert faults.plan["TransactWriteItems"] == []
    assert counts(api, first) == counted(recipients=1, sent=1, delivered=1)
    assert counts(api, second) == counted(recipients=1, failed=1)


def test_recipients_added_later_are_counted_once(api):
    api.setup_tenant("acme")
    message_id = api.record()
    added = {"recipients": [{"address": "sam@example.com"}, {"address": "lee@example.com"}]}
    for _ in range(2):  # the client's retry adds nothing
        assert api.post(f"/v1/messages/{message_id}/recipients", added, auth=WRITER).status == 200
    assert counts(api, message_id) == counted(recipients=3, pending=3)
    api.mailgun(mailgun_event("delivered", "sam@example.com", message_id=message_id))
    assert counts(api, message_id) == counted(recipients=3, pending=2, sent=1, delivered=1)


def test_an_erasure_keeps_the_counts(api):
    api.setup_tenant("acme")
    message_id = api.record(recipients=[{"address": "kid@example.com", "person_id": "P1"},
                                        {"address": "mum@example.com", "person_id": "P2"}])
    for event in ("delivered", "opened"):
        api.mailgun(mailgun_event(event, "kid@example.com", message_id=message_id))
    before = counts(api, message_id)
    assert before == counted(recipients=2, pending=1, sent=1, opened=1)
    assert api.call("DELETE", "/v1/people/P1").status == 200
    assert counts(api, message_id) == before
    api.mailgun(mailgun_event("delivered", "mum@example.com", message_id=message_id))
    assert counts(api, message_id) == counted(recipients=2, sent=2, opened=1, delivered=1)


@pytest.mark.parametrize("direct_max", ["8", "0"], ids=["updated at once", "by the status writer"])
def test_an_event_still_queued_when_the_erasure_moves_its_delivery_is_counted(api_with, direct_max):
    """The event's change (or its recount) waits in the writer's queue while the erasure moves the delivery: the
    change finds it gone, and the moved copy, which carries the event, is counted through the erasure's recount."""
    api = api_with(STATUS_DIRECT_MAX=direct_max)
    api.setup_tenant("acme")
    message_id = api.record(campaign="Trip", created_at="2026-03-10T12:00:00Z",
                            recipients=[{"address": "kid@example.com", "person_id": "P1"}])
    api.settle = False  # the writer does not run until the erasure is done
    assert api.mailgun(mailgun_event("delivered", "kid@example.com", message_id=message_id)).status == 200
    assert api.call("DELETE", "/v1/people/P1").status == 200
    api.settle_statuses()
    assert counts(api, message_id) == counted(recipients=1, sent=1, delivered=1)
    statistics = api.get("/v1/stats?from=2026-03-01T00:00:00Z&to=2026-03-31T00:00:00Z",
                         auth=token(rights=["stats:read"])).json["totals"]["email"]
    assert (statistics["sent"], statistics["failed"]) == (1, 0)


def test_canceling_a_scheduled_message_counts_its_pending_recipients_failed(api):
    api.setup_tenant("acme")
    message_id = api.record(status="scheduled", scheduled_at="2030-01-01T08:00:00Z",
                            recipients=[{"address": f"{n}@example.com"} for n in "abc"])
    assert counts(api, message_id) == counted(recipients=3, pending=3)
    api.mailgun(mailgun_event("delivered", "b@example.com", message_id=message_id))  # it left already
    for _ in range(2):  # a repeat changes nothing more
        assert api.call("PATCH", f"/v1/messages/{message_id}", {"status": "canceled"}, auth=WRITER).status == 200
    assert counts(api, message_id) == counted(recipients=3, failed=2, sent=1, delivered=1)


def _as_before_counts(message_id: str) -> None:
    """The message and everything counted of it as recorded before counts existed: no base on it, no `counted_as`
    on its deliveries nor `counted` on their status items, no counts items, nothing of it in the statistics'
    sent and failed."""
    from msglog import keys
    from msglog.models import Delivery, DeliveryStatus, Message, MessageCounts, StatsCounter, StatsMoves

    message = Message.get(keys.message_pk("acme", message_id), keys.META_SK)
    message.update(actions=[Message.counted_recipients.remove(), Message.counted_as.remove()])
    for delivery in Delivery.scan(Delivery.message_id == message_id):
        delivery.update(actions=[Delivery.counted_as.remove()])
        for item in DeliveryStatus.query(delivery.pk, DeliveryStatus.sk == keys.status_sk_of(delivery.sk)):
            item.update(actions=[DeliveryStatus.counted.remove()])
    for item in MessageCounts.query(message.pk, MessageCounts.sk.startswith(keys.COUNTS_PREFIX)):
        item.delete()
    for moves in StatsMoves.scan():
        moves.delete()
    StatsCounter(message.stats_pk, message.stats_sk).update(
        actions=[StatsCounter.counted_sent.remove(), StatsCounter.counted_failed.remove()])


def test_messages_recorded_before_counts_are_counted_by_the_operator_command_once(api):
    api.setup_tenant("acme")
    created = "2026-03-10T12:00:00Z"
    old = api.record(campaign="Old", created_at=created, recipients=[{"address": f"{n}@example.com"} for n in "abcd"])
    api.mailgun(mailgun_event("delivered", "a@example.com", message_id=old))
    api.mailgun(mailgun_event("failed", "b@example.com", message_id=old, **FAILED))
    api.mailgun(mailgun_event("delivered", "c@example.com", message_id=old))
    _as_before_counts(old)
    api.mailgun(mailgun_event("opened", "c@example.com", message_id=old))  # met since: counted as a new recipient
    new = api.record(campaign="New", created_at=created)
    assert counts(api, old) == counted(recipients=1, sent=1, opened=1)
    after, calls = None, 0
    while True:
        done = api.gateway.runtime.invoke("OperationsFunction", {"command": "count-messages", "tenant": "acme",
                                                                 "limit": 1, "after": after})
        calls += 1
        if not (after := done["next"]):
            break
    api.settle_statuses()
    assert calls >= 2
    final = counted(recipients=4, pending=1, sent=2, delivered=1, opened=1, failed=1)
    assert counts(api, old) == final
    assert counts(api, new) == counted(recipients=1, pending=1)
    again = api.gateway.runtime.invoke("OperationsFunction", {"command": "count-messages", "tenant": "acme"})
    assert (again["messages"], again["written"], again["next"]) == (2, 0, None)
    assert api.settle_statuses() == 0  # nothing queued
    assert counts(api, old) == final
    campaigns = api.get("/v1/stats?group=campaign&from=2026-03-01T00:00:00Z&to=2026-03-31T00:00:00Z",
                        auth=token(rights=["stats:read"])).json["items"]
    assert {c["campaign"]: (c["sent"], c["failed"]) for c in campaigns} == {"Old": (2, 1), "New": (0, 0)}
