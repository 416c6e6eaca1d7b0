"""The status writer's rules (msglog.status_writer), without AWS: order-independent, idempotent, and
messages that fit SQS."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from msglog import status_writer
from msglog.models import Delivery
from msglog.precedence import precedence, rank

EVENTS = ["queued", "delivered", "deferred", "opened", "bounced", "clicked", "stored", "unknown"]
change = st.builds(lambda event, second, n: (event, f"2026-12-01T10:00:{second:02d}.000000Z", f"e{n}"),
                   st.sampled_from(EVENTS), st.integers(0, 59), st.integers(0, 3))


def as_change(event: str, at: str, event_id: str) -> status_writer.Change:
    if not rank(event):
        return status_writer.Change("T#acme#R#pat@example.com", "01MSG", at)
    return status_writer.Change("T#acme#R#pat@example.com", "01MSG", at, event, precedence(event, at, event_id), None)


def written(changes: list[status_writer.Change], batches: list[int]):
    """What the writer leaves after delivering `changes` in batches of the given sizes, item by item."""
    item, start = None, 0
    for size in [*batches, len(changes)]:
        merged = None
        for c in changes[start:start + size]:
            merged = status_writer.merged(merged, c)
        start += size
        if merged is not None:
            item = status_writer.updated(item, merged) or item
    return item and (item.status, item.status_precedence, item.last_event_at)


@given(st.lists(change, min_size=1, max_size=8), st.randoms(), st.lists(st.integers(1, 3), max_size=4))
def test_any_order_and_any_batching_end_in_the_same_status(events, random, batches):
    changes = [as_change(*e) for e in events]
    shuffled = changes[:]
    random.shuffle(shuffled)
    retried = shuffled + shuffled[: len(shuffled) // 2]  # redelivered messages change nothing
    assert written(retried, batches) == written(changes, [])
    best = max((c for c in changes if c.precedence), key=lambda c: c.precedence, default=None)
    status, _, latest = written(changes, [])
    assert (status, latest) == (best and best.status, max(c.at for c in changes))


def test_a_change_the_item_holds_writes_nothing():
    item = status_writer.updated(None, as_change("opened", "2026-12-01T10:00:05.000000Z", "e1"))
    assert status_writer.updated(item, as_change("delivered", "2026-12-01T10:00:01.000000Z", "e0")) is None
    assert status_writer.updated(item, as_change("opened", "2026-12-01T10:00:05.000000Z", "e1")) is None
    later = status_writer.updated(item, as_change("delivered", "2026-12-01T10:00:09.000000Z", "e2"))
    assert (later.status, later.last_event_at) == ("opened", "2026-12-01T10:00:09.000000Z")  # time only


def test_the_item_is_laid_over_the_delivery_only_where_it_is_better():
    delivery = Delivery("T#acme#R#pat@example.com", "M#01MSG", status="failed",
                        status_precedence=precedence("failed", "2026-12-01T09:00:00.000000Z"),
                        last_event_at="2026-12-01T09:00:00.000000Z")
    lesser = status_writer.updated(None, as_change("delivered", "2026-12-01T10:00:00.000000Z", "e1"))
    status_writer.lay(delivery, lesser)
    assert (delivery.status, delivery.last_event_at) == ("failed", "2026-12-01T10:00:00.000000Z")
    status_writer.lay(delivery, status_writer.updated(None, as_change("opened", "2026-12-01T08:00:00.000000Z", "e2")))
    assert (delivery.status, delivery.last_event_at) == ("opened", "2026-12-01T10:00:00.000000Z")


def test_a_group_s_changes_are_split_into_messages_sqs_takes():
    rows = [as_change("delivered", "2026-12-01T10:00:00.000000Z", f"event-{n:06d}").row() for n in range(3_000)]
    bodies = list(status_writer._bodies({"tenant": "acme", "read_at": "2026-12-01T10:00:00.000000Z"}, rows))
    assert len(bodies) > 1 and all(len(b) <= status_writer.MESSAGE_BYTES for b in bodies)
    assert [row for body in bodies for row in json.loads(body)["changes"]] == rows
    assert [c.row() for body in bodies for c in status_writer.read(body)] == rows


def test_a_message_that_is_not_a_change_list_is_refused_by_name():
    for body in ("", "[]", '{"changes": [[1, 2]]}', '{"other": []}'):
        try:
            status_writer.read(body)
        except ValueError as error:
            assert "not a status change message" in str(error)
        else:
            raise AssertionError(f"{body!r} was read")
