"""A delivery's status as its provider events raise it: one writer per delivery, so it is written in batches.

Ingestion (msglog.ingest) sends *changes* — per delivery, the request's best event and its latest
time — to the StatusChanges FIFO queue, in message groups of tenant and recipient shard
(`keys.status_group`). Lambda hands over one batch of a group at a time, in order, so `apply` is
the only writer of a delivery's status item (`M#<mid>#S`, beside the delivery) while it runs: it
reads the items consistently and writes them with BatchWriteItem, which has no conditions — 25
deliveries a request, where a conditional UpdateItem took one each.

Only requests that change many deliveries come here (msglog.ingest: a few are updated on the
delivery itself, by condition). Readers lay the status item over the delivery: the better precedence
wins, and the later activity time. A recipient's log finds it in the same Query as the delivery
(`beside`); the views that list deliveries through a keys-only index fetch it in the same
BatchGetItem (`hydrated`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from msglog import counts, fanout, keys, pages
from msglog.clock import iso
from msglog.config import config
from msglog.models import Delivery, DeliveryStatus, Entity, ErasuresRunning

SEND_BATCH = 10  # SendMessageBatch's most entries
MESSAGE_BYTES = 200_000  # under SQS's 256 KiB a message (and a batch), with room for the envelope
# An eventually consistent read may still show a delivery that an erasure moved up to this long before.
READ_LAG = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Change:
    """What one request (or one linking of waiting events) did to one delivery."""

    pk: str  # the delivery's partition: tenant and recipient
    message_id: str
    at: str  # the latest event's time
    status: str | None = None  # the best ranked event, if any
    precedence: str | None = None  # msglog.precedence.precedence of `status`
    reason: str | None = None
    tenant: str = ""  # from the message (not in `row`)
    read_at: str | None = None  # when its delivery was read (from the message, not in `row`); None: unknown

    @property
    def key(self) -> tuple[str, str]:
        return self.pk, keys.delivery_status_sk(self.message_id)

    def row(self) -> list[str | None]:
        return [self.pk, self.message_id, self.at, self.status, self.precedence, self.reason]


def recount(tenant: str, recipient_key: str, message_id: str) -> tuple[str, Change]:
    """A change of no status for a delivery whose status changed elsewhere (or that was added to its message):
    the writer counts it as it is now (msglog.counts). For `send`."""
    return recipient_key, Change(keys.recipient_pk(tenant, recipient_key), message_id, "", tenant=tenant)


def send(tenant: str, changes: Iterable[tuple[str, Change]], read_at: str) -> None:
    """Queue `changes` — (recipient key, change) pairs of deliveries read at `read_at` or later — one
    message per group (more if it is large)."""
    from msglog.aws import client

    groups: dict[str, list[list[str | None]]] = {}
    for rkey, change in changes:
        groups.setdefault(keys.status_group(tenant, rkey), []).append(change.row())
    head = {"tenant": tenant, "read_at": read_at}
    entries = [{"Id": str(number), "MessageGroupId": group, "MessageBody": body}
               for number, (group, body) in enumerate((group, body) for group, rows in groups.items()
                                                      for body in _bodies(head, rows))]
    sqs = client("sqs")
    for start in range(0, len(entries), SEND_BATCH):
        chunk = entries[start:start + SEND_BATCH]
        while chunk:  # a batch of 10 is at most 10 x 200 KB: split it by size as SQS's 256 KiB a call asks
            size, count = 0, 0
            while count < len(chunk) and (count == 0 or size + len(chunk[count]["MessageBody"]) <= MESSAGE_BYTES):
                size += len(chunk[count]["MessageBody"])
                count += 1
            _send(sqs, chunk[:count])
            chunk = chunk[count:]


def _bodies(head: dict[str, str], rows: list[list[str | None]]) -> Iterator[str]:
    body: list[list[str | None]] = []
    size = 0
    for row in rows:
        length = len(json.dumps(row)) + 1
        if body and size + length > MESSAGE_BYTES:
            yield json.dumps({**head, "changes": body}, separators=(",", ":"))
            body, size = [], 0
        body.append(row)
        size += length
    if body:
        yield json.dumps({**head, "changes": body}, separators=(",", ":"))


def _send(sqs: Any, entries: list[dict[str, str]]) -> None:
    from botocore.exceptions import ClientError

    answer = sqs.send_message_batch(QueueUrl=config().status_queue_url, Entries=entries)
    if failed := answer.get("Failed"):  # as an error of the call, so that parking judges it (msglog.parking)
        first = failed[0]
        raise ClientError({"Error": {"Code": first.get("Code", "SendFailed"), "Message": first.get("Message", "")},
                           "ResponseMetadata": {"HTTPStatusCode": 400 if first.get("SenderFault") else 500}},
                          "SendMessageBatch")


def read(body: str) -> list[Change]:
    """The changes of one queue message; ValueError if it is not one `send` wrote."""
    try:
        message = json.loads(body)
        tenant, read_at = str(message["tenant"]), message.get("read_at")
        return [Change(str(pk), str(mid), str(at), status, precedence, reason, tenant, read_at)
                for pk, mid, at, status, precedence, reason in message["changes"]]
    except (TypeError, KeyError, ValueError) as error:
        raise ValueError(f"not a status change message: {error}") from error


def apply(changes: list[Change]) -> int:
    """Write what `changes` change; how many status items that wrote. Safe to run again: a change the
    item holds already changes nothing."""
    by_key: dict[tuple[str, str], Change] = {}
    for change in changes:
        by_key[change.key] = merged(by_key.get(change.key), change)
    delivery_keys = {key: (change.pk, keys.delivery_sk(change.message_id)) for key, change in by_key.items()}
    found = fanout.get_all(Entity, [*by_key, *delivery_keys.values()], consistent=True)  # their counts need both
    current = {(s.pk, s.sk): s for s in found if isinstance(s, DeliveryStatus)}
    deliveries = {(d.pk, d.sk): d for d in found if isinstance(d, Delivery)}
    changed = {key: item for key, change in by_key.items() if (item := updated(current.get(key), change)) is not None}
    moves = [move for key, change in by_key.items() if (move := counts.moved(
        change.tenant, deliveries.get(delivery_keys[key]), changed.get(key) or current.get(key), key))]
    moving = {(move.item.pk, move.item.sk) for move in moves}
    try:
        fanout.save_all(DeliveryStatus, [item for key, item in changed.items() if key not in moving])
        counts.write(moves)  # with their status items, in transactions
    finally:  # also when one chunk failed: the others are written, and may be of deliveries erased meanwhile
        _forget_erased(list(by_key.values()))
    return len(changed.keys() | moving)


def merged(earlier: Change | None, change: Change) -> Change:
    """Two changes of one delivery as one: the better status, the later time (and the earlier read)."""
    if earlier is None:
        return change
    best = change if (change.precedence or "") > (earlier.precedence or "") else earlier
    read_at = (min(earlier.read_at, change.read_at)
               if earlier.read_at is not None and change.read_at is not None else None)
    return replace(best, at=max(earlier.at, change.at), read_at=read_at)


def updated(item: DeliveryStatus | None, change: Change) -> DeliveryStatus | None:
    """`item` (changed in place, or a new one) with `change` laid over it; None if it changes nothing."""
    if not change.at:  # a recount: it changes no status
        return None
    if item is None:
        item = DeliveryStatus(*change.key, last_event_at=change.at)
    elif change.at <= item.last_event_at and (change.precedence or "") <= (item.status_precedence or ""):
        return None
    item.last_event_at = max(item.last_event_at, change.at)
    if (change.precedence or "") > (item.status_precedence or ""):
        item.status, item.status_precedence, item.status_reason = change.status, change.precedence, change.reason
    return item


def _forget_erased(changes: list[Change]) -> None:
    """A delivery erased meanwhile (msglog.erasure moved it, with its status item): its status item,
    written now or by an earlier attempt of this batch, goes too. Read after the writes, so an erasure
    either sees the item (and its move's condition fails on it) or has moved the delivery before this
    read. Only for changes whose delivery was read while an erasure of the tenant may have been
    moving deliveries (`ErasuresRunning`, set before any move): otherwise nothing can have moved it."""
    changes = _while_erasing(changes)
    if not changes:
        return
    deliveries = [(change.pk, keys.delivery_sk(change.message_id)) for change in changes]
    present = {(d.pk, d.sk)
               for d in fanout.get_all(Delivery, deliveries, consistent=True, attributes=["pk", "sk", "type"])}
    gone = [change for change, key in zip(changes, deliveries, strict=True) if key not in present]
    if gone:
        with DeliveryStatus.batch_write() as batch:
            for change in gone:
                batch.delete(DeliveryStatus(*change.key))


def _while_erasing(changes: list[Change]) -> list[Change]:
    wanted = [(keys.erasing_pk(tenant), keys.ERASING_SK) for tenant in {change.tenant for change in changes}]
    until = {w.pk: w.until for w in fanout.get_all(ErasuresRunning, wanted, consistent=True)}
    return [change for change in changes
            if change.read_at is None or until.get(keys.erasing_pk(change.tenant), "") > _lagged(change.read_at)]


def _lagged(read_at: str) -> str:
    """The earliest time of a move that a read at `read_at` may not have seen."""
    return iso(datetime.fromisoformat(read_at) - READ_LAG)


def lay(delivery: Delivery, status: DeliveryStatus, *, reason: bool = True) -> Delivery:
    """`delivery` as its status item says it is now (`reason=False`: without the item's reason)."""
    if status.status_precedence and status.status_precedence > (delivery.status_precedence or ""):
        delivery.status, delivery.status_precedence = status.status, status.status_precedence
        delivery.status_reason = status.status_reason if reason else None
    if status.last_event_at > (delivery.last_event_at or ""):
        delivery.last_event_at = status.last_event_at
    return delivery


def _shown(delivery: Delivery, status: Entity | None) -> Delivery:
    """What a view shows of `delivery`. Of one being erased (marked in place), its status item's reason
    waits for the move, which scrubs it: a provider's reason may quote the address."""
    return lay(delivery, status, reason=not delivery.erased_at) if isinstance(status, DeliveryStatus) else delivery


def beside(query: Callable[..., Iterable[Any]]) -> Callable[..., Iterator[Any]]:
    """A Query of a recipient's deliveries (`M#` keys), which returns each one's status item next to
    it (after it ascending, before it descending), as the deliveries with their status laid over them.
    `limit` and `page_size` count deliveries: a Query page asks for twice as many items, and the Query
    itself has no limit (a status item whose delivery is gone must not use up a delivery's place)."""

    def run(*, limit: int | None = None, page_size: int | None = None, **kwargs: Any) -> Iterator[Any]:
        items = query(page_size=2 * page_size + 1 if page_size else None, **kwargs)
        held: Any = None  # a delivery or a status item, until the next item shows whether it is its partner
        given = 0
        for item in items:
            if held is not None and _partners(held, item):
                delivery, status = (held, item) if isinstance(held, Delivery) else (item, held)
                held = None
                yield _shown(delivery, status)
                given += 1
            else:
                if isinstance(held, Delivery):  # a status item without its delivery is outside the range
                    yield held
                    given += 1
                held = item
            if limit and given >= limit:
                return
        if isinstance(held, Delivery):
            yield held

    return run


def _partners(one: Any, other: Any) -> bool:
    status, delivery = (one, other) if isinstance(one, DeliveryStatus) else (other, one)
    return (isinstance(status, DeliveryStatus) and isinstance(delivery, Delivery)
            and status.sk == keys.status_sk_of(delivery.sk))


def hydrated(query: Callable[..., Iterable[Any]]) -> Callable[..., Iterator[Any]]:
    """The Query of an index that holds the deliveries' keys only (gsi4-gsi6) as whole deliveries with
    their status laid over them, in the index's order: one BatchGetItem per page of 50 reads both, eventually
    consistent like the index. A delivery gone by then (an erasure moved it; the index lags) is skipped."""

    def fetch(rows: list[Any]) -> list[Delivery]:
        wanted = [(row.pk, row.sk) for row in rows]
        found = {(item.pk, item.sk): item
                 for item in Entity.batch_get(wanted + [(pk, keys.status_sk_of(sk)) for pk, sk in wanted])}
        return [_shown(delivery, found.get((pk, keys.status_sk_of(sk))))
                for pk, sk in wanted if isinstance(delivery := found.get((pk, sk)), Delivery)]

    return pages.by_page(query, fetch, keys_per_item=2)
