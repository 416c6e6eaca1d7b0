"""Operator backfills (README, Operations): the index entries that messages recorded before an index
existed lack — the sent log's sort copies (gsi7, msglog.sent_sorts) and the sends feed (gsi3, every
delivery of a channel) — and the counts of messages recorded before counts existed (msglog.counts).
Each walks the tenant's sent feed (pattern 4, gsi1) shard after shard, oldest first, a bounded number
of messages a call, and answers where to go on (`next`; null: done). Each is idempotent: what it writes
is what recording writes (or the status writer counts), and only where it is missing."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from pynamodb.exceptions import UpdateError

from msglog import fanout, keys, pages, sent_sorts, status_writer
from msglog.clock import iso, now
from msglog.models import Delivery, Message, SortedMessage, condition_failed
from msglog.tenants import feed_shards

DELIVERIES_PAGE = 100  # a message's recipients are read this many keys a BatchGetItem


def _walk(tenant: str, after: dict[str, Any] | None, limit: int,
          handle: Callable[[list[Message], int], int]) -> dict[str, Any]:
    """Up to `limit` messages of the sent feed from `after`, a page at a time, to `handle(messages, shards)`,
    which answers how many items it wrote."""
    shards = feed_shards(tenant)
    shard, start = (int(after["shard"]), after.get("key")) if after else (0, None)
    messages = written = 0
    while shard < shards and messages < limit:
        found = Message.gsi1.query(keys.sent_feed_pk(tenant, shard), limit=limit - messages, last_evaluated_key=start)
        batch = [message for message in found if type(message) is Message]
        written += handle(batch, shards)
        messages += len(batch)
        start = found.last_evaluated_key
        if start is None:
            shard += 1
    return {"tenant": tenant, "messages": messages, "written": written,
            "next": {"shard": shard, "key": start} if shard < shards else None}


def sent_sorts_index(tenant: str, after: dict[str, Any] | None, limit: int) -> dict[str, Any]:
    """The sort copies of each message (whole, as `sent_sorts.save` writes them; a message's copies are the
    same items however often they are written)."""

    def copies(batch: list[Message], shards: int) -> int:
        fanout.save_all(
            SortedMessage, [copy for message in batch for copy in sent_sorts.copies(tenant, message, shards)]
        )
        return len(batch)

    return _walk(tenant, after, limit, copies)


def sends_index(tenant: str, after: dict[str, Any] | None, limit: int) -> dict[str, Any]:
    """The sends-feed keys of each message's deliveries that lack them: the message's recipients (gsi6, one
    Query per group shard), one conditional UpdateItem per delivery without them."""

    def keyed(batch: list[Message], shards: int) -> int:
        written = 0
        for message in batch:
            for group in range(keys.GROUP_SHARDS):
                recipients = pages.hydrated(Delivery, partial(
                    Delivery.gsi6.query, keys.message_group_shard_pk(tenant, message.message_id, group),
                    Delivery.gsi6sk.startswith(keys.GROUP_DELIVERY_PREFIX)))(page_size=DELIVERIES_PAGE)
                written += sum(_key_send(tenant, message, d, shards) for d in recipients if d.gsi3pk is None)
        return written

    return _walk(tenant, after, limit, keyed)


def _key_send(tenant: str, message: Message, delivery: Delivery, shards: int) -> bool:
    shard = keys.shard_of(delivery.recipient_key, shards)
    try:
        delivery.update(actions=[Delivery.gsi3pk.set(keys.sends_feed_pk(tenant, message.channel, shard)),
                                 Delivery.gsi3sk.set(keys.sends_feed_sk(message.message_id))],
                        condition=Delivery.pk.exists() & Delivery.gsi3pk.does_not_exist())
    except UpdateError as error:
        if condition_failed(error):
            return False  # erased meanwhile, or keyed by a concurrent call
        raise
    return True


def message_counts(tenant: str, after: dict[str, Any] | None, limit: int) -> dict[str, Any]:
    """The counts of each message recorded before counts existed (no base: `counted_recipients` absent): a recount
    of every delivery (its keys from gsi6, one Query per group shard) goes to the status writer, which counts each
    as a new recipient, once — or not at all if it counted it since (only the writer moves counts: a base of the
    deliveries' statuses written here would race it). Then the message gets an empty base (0 recipients), by
    condition: what marks it done, so a repeat reads its META and queues nothing."""

    def recounted(batch: list[Message], shards: int) -> int:
        return sum(_recount(tenant, message) for message in batch if message.counted_recipients is None)

    return _walk(tenant, after, limit, recounted)


def _recount(tenant: str, message: Message) -> bool:
    changes = [status_writer.recount(tenant, keys.recipient_key_of(row.pk), message.message_id)
               for group in range(keys.GROUP_SHARDS)
               for row in Delivery.gsi6.query(keys.message_group_shard_pk(tenant, message.message_id, group),
                                              Delivery.gsi6sk.startswith(keys.GROUP_DELIVERY_PREFIX))]
    if changes:
        status_writer.send(tenant, changes, iso(now()))
    try:  # after the recounts are queued: a call that fails between queues them again, which counts nothing twice
        message.update(actions=[Message.counted_recipients.set(0)],
                       condition=Message.pk.exists() & Message.counted_recipients.does_not_exist())
    except UpdateError as error:
        if condition_failed(error):
            return False  # done by a concurrent call
        raise
    return True
