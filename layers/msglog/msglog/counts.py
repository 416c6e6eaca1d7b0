"""A message's `counts` (sent-log rows and the detail): recipients, pending, sent, delivered, failed, opened,
clicked, unsubscribed, complained — exact, and without a hot item (docs/decisions.md, issue 18).

Each delivery counts once, by its current status (`fields_of`): `pending` (accepted, queued, scheduled,
sending, deferred), `sent` (it left: sent, delivered, opened/read, clicked, unsubscribed, complained, each
also in its own column but `sent`) or `failed` (rank 5). A message's counts are
  - its base, on the message (`counted_recipients` recipients, all counted as `counted_as`), written in
    the transaction that first stores it (msglog.stats.save_counted), so a retried recording adds nothing;
  - plus one MessageCounts item per status group (`keys.counts_sk`, ≤ keys.STATUS_GROUPS, in the message's
    partition) holding how that group's deliveries moved from the base. Only the group's status writer
    (msglog.status_writer, one at a time per FIFO group) writes it, in the same transaction as the status
    items whose `counted` it moves (`write`): a retried batch reads `counted` again and moves nothing twice.
The same transactions move the account statistics' `sent` and `failed` (msglog.stats): the delivery's counter's
StatsMoves item of the same group (keys.stats_moves_key), so seed 002's `sent` is what left, never a hot item.
Whatever changes a delivery's status outside the writer (ingestion's direct updates, canceling) or adds
deliveries to a message after it was recorded asks the writer to count it (`status_writer.recount`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pynamodb.transactions import TransactWrite

from msglog import fanout, keys
from msglog.models import Delivery, DeliveryStatus, Entity, Message, MessageCounts, StatsMoves
from msglog.precedence import rank

FIELDS = ("recipients", "pending", "sent", "delivered", "failed", "opened", "clicked", "unsubscribed", "complained")
FAILED_RANK = 5
LEFT = {"sent": None, "delivered": "delivered", "opened": "opened", "read": "opened", "clicked": "clicked",
        "unsubscribed": "unsubscribed", "complained": "complained"}  # the provider took it and it left
DELIVERIES_PER_TRANSACTION = 49  # a status item and its delivery's check each, the counts and stats moves items: ≤ 100
STATS_FIELDS = ("sent", "failed")  # what the account statistics take of the counts (msglog.stats)


def fields_of(status: str | None) -> frozenset[str]:
    """The counts a delivery in `status` adds one to (None: it is not counted yet)."""
    if status is None:
        return frozenset()
    if rank(status) == FAILED_RANK:
        return frozenset({"recipients", "failed"})
    if status in LEFT:
        own = LEFT[status]
        return frozenset({"recipients", "sent", *([own] if own else [])})
    return frozenset({"recipients", "pending"})


def move(before: str | None, after: str) -> dict[str, int]:
    """What a delivery going from `before` to `after` changes: −1 where it leaves, +1 where it comes."""
    old, new = fields_of(before), fields_of(after)
    return {**dict.fromkeys(old - new, -1), **dict.fromkeys(new - old, 1)}


def set_base(message: Message, recipients: int, status: str) -> None:
    """The base of a message about to be stored: its `recipients` deliveries, each recorded in `status`."""
    message.counted_recipients, message.counted_as = recipients, status


def _total(message: Message, items: Iterable[MessageCounts]) -> dict[str, int]:
    totals = dict.fromkeys(FIELDS, 0)
    base = int(message.counted_recipients or 0)
    for name in fields_of(message.counted_as) if base else ():
        totals[name] += base
    for item in items:
        for name in FIELDS:
            totals[name] += int(getattr(item, name) or 0)
    return totals


def of_messages(tenant: str, messages: Sequence[Message]) -> list[dict[str, int]]:
    """Each message's counts: one Query of its partition's counts items (≤ STATUS_GROUPS items of ~150 B:
    one or two read units) per message, at once."""
    def items(message: Message) -> list[MessageCounts]:
        return list(MessageCounts.query(keys.message_pk(tenant, message.message_id),
                                        MessageCounts.sk.startswith(keys.COUNTS_PREFIX)))

    return [_total(message, found) for message, found in zip(messages, fanout.each(items, messages), strict=True)]


# ------------------------------------------------------------------ the status writer's side
@dataclass(slots=True)
class Move:
    """One delivery's count moving: its status item (with `counted` now `after`), as one write with its counts item."""

    item: DeliveryStatus
    delivery: tuple[str, str]
    counts_key: tuple[str, str]
    before: str | None
    before_on_item: bool  # `before` is the status item's `counted` (else the delivery's, or none)
    delta: dict[str, int] = field(default_factory=dict)
    stats_key: tuple[str, str] | None = None  # its counter's moves item (none: recorded before statistics)


def effective(delivery: Delivery, item: DeliveryStatus | None) -> str:
    """The delivery's status as views show it: the status item's when it takes precedence."""
    if item is not None and item.status and (item.status_precedence or "") > (delivery.status_precedence or ""):
        return item.status
    return delivery.status


def moved(tenant: str, delivery: Delivery | None, item: DeliveryStatus | None,
          key: tuple[str, str]) -> Move | None:
    """The count move of the delivery whose status item is at `key` (`item`: as it will be written,
    or None), or None if its counts stay (a delivery no longer there, erased: its counts stay too)."""
    if delivery is None:
        return None
    before_on_item = item is not None and item.counted is not None
    before = item.counted if item is not None and before_on_item else delivery.counted_as
    after = effective(delivery, item)
    delta = move(before, after)
    if not delta:
        return None
    if item is None:  # no event yet through the writer: an item to hold what the counts hold
        item = DeliveryStatus(*key, last_event_at=delivery.last_event_at)
    item.counted = after
    stats_key = (keys.stats_moves_key(delivery.stats_pk, delivery.stats_sk or "", delivery.recipient_key)
                 if delivery.stats_pk else None)
    return Move(item, (delivery.pk, delivery.sk),
                (keys.message_pk(tenant, delivery.message_id), keys.counts_sk(tenant, delivery.recipient_key)),
                before, before_on_item, delta, stats_key)


def write(moves: list[Move]) -> None:
    """Each counts item's moves in transactions with their status items, all or none each: the status item
    conditioned on its `counted` as read and its delivery on being there (an erasure that moved it since
    cancels the transaction; the batch's retry reads it gone and counts nothing)."""
    by_counts: dict[tuple[tuple[str, str], tuple[str, str] | None], list[Move]] = {}
    for one in moves:
        by_counts.setdefault((one.counts_key, one.stats_key), []).append(one)
    # one after the other: one item's at once would conflict, and a batch moves few messages' counts
    for group in by_counts.values():
        for start in range(0, len(group), DELIVERIES_PER_TRANSACTION):
            _transact(group[start:start + DELIVERIES_PER_TRANSACTION])


def _transact(chunk: list[Move]) -> None:
    totals: dict[str, int] = {}
    for one in chunk:
        for name, change in one.delta.items():
            totals[name] = totals.get(name, 0) + change
    actions: list[Any] = [MessageCounts.type.set(MessageCounts)]
    actions += [getattr(MessageCounts, name).add(change) for name, change in totals.items() if change]
    with TransactWrite(connection=Entity._get_connection().connection) as transaction:
        for one in chunk:
            unchanged = (DeliveryStatus.counted == one.before) if one.before_on_item \
                else DeliveryStatus.counted.does_not_exist()
            transaction.save(one.item, condition=unchanged)
            transaction.condition_check(Delivery, *one.delivery, condition=Delivery.pk.exists())
        transaction.update(MessageCounts(*chunk[0].counts_key), actions=actions)
        stats_key = chunk[0].stats_key
        if stats_key and any(totals.get(name) for name in STATS_FIELDS):  # the same group's moves item: one writer
            transaction.update(StatsMoves(*stats_key), actions=[StatsMoves.type.set(StatsMoves), *(
                getattr(StatsMoves, name).add(totals[name]) for name in STATS_FIELDS if totals.get(name))])
