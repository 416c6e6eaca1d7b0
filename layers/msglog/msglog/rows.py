"""What a log row shows beyond its own item: whether its message's body is still kept (`body_kept`: where a
front end puts its "view text" icon), an SMS or push message's `text` while it is, and whether the address
is on the suppression list (`suppressed`).

A page reads what its rows need at once, never per row: one BatchGetItem (fanout.get_all: a request per
100 keys, at once) of its distinct messages' META items, the BODY items of its SMS and push messages, and
its distinct addresses' suppression items (keyed by address: msglog.suppressions.item_key); the message
detail's recipients read their suppression items alone (of_recipients). A sent-log
row is the message itself, so it knows its body's state already; only its SMS and push bodies are read,
and its counts (msglog.counts).

The purge (msglog.purge) stamps `body_purged_at` on the message before it deletes the body, and the
erasure `body_erased_at`: a message with either, or recorded without a body (`has_body` false), has
none kept. Bodies kept in S3 (over 100 KB: never an SMS) show their text in the detail only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from msglog import counts, fanout, keys
from msglog.models import Delivery, Entity, Message, MessageBody, Suppression
from msglog.suppressions import item_key

TEXT_CHANNELS = frozenset({"sms", "push"})


def body_kept(message: Message | None) -> bool:
    """Whether the message's body may still be read (a message recorded before `has_body` was kept: yes,
    unless purged or erased)."""
    return (message is not None and message.has_body is not False
            and not message.body_purged_at and not message.body_erased_at)


def _with_body(row: dict[str, Any], channel: str, kept: bool, body: MessageBody | None) -> None:
    kept = kept and (channel not in TEXT_CHANNELS or body is not None)
    row["body_kept"] = kept
    if channel in TEXT_CHANNELS:
        row["text"] = body.text if kept and body is not None else None


def of_messages(tenant: str, messages: Sequence[Message], rows: list[dict[str, Any]]) -> None:
    """Sent-log rows: `body_kept`, `text` (SMS, push), `suppressed`, which is false: a message row has no
    one address (its recipients' rows in the detail and the recipient and sends logs have), and `counts`
    (msglog.counts: a Query of each message's counts items, at once)."""
    wanted = [(m.pk, keys.BODY_SK) for m in messages if m.channel in TEXT_CHANNELS and body_kept(m)]
    found = {item.pk: item for item in fanout.get_all(MessageBody, wanted)} if wanted else {}
    for message, row in zip(messages, rows, strict=True):
        _with_body(row, message.channel, body_kept(message), found.get(message.pk))
        row["suppressed"] = False
    for row, counted in zip(rows, counts.of_messages(tenant, messages), strict=True):
        row["counts"] = counted


def of_deliveries(tenant: str, deliveries: Sequence[Delivery], rows: list[dict[str, Any]]) -> dict[str, Message]:
    """Delivery rows (recipient and sends logs): `body_kept`, `text` (SMS, push) and `suppressed`, from one
    BatchGetItem for the page. Returns the page's messages by id (the sends log shows their campaign)."""
    message_keys = {d.message_id: keys.message_pk(tenant, d.message_id) for d in deliveries}
    bodies = {message_keys[d.message_id] for d in deliveries if d.channel in TEXT_CHANNELS}
    suppression_keys = _suppression_keys(tenant, deliveries)
    wanted = ([(pk, keys.META_SK) for pk in message_keys.values()] + [(pk, keys.BODY_SK) for pk in bodies]
              + list(suppression_keys.values()))
    found = {(item.pk, item.sk): item for item in fanout.get_all(Entity, wanted)} if wanted else {}
    messages = {mid: found[(pk, keys.META_SK)] for mid, pk in message_keys.items()
                if isinstance(found.get((pk, keys.META_SK)), Message)}
    for delivery, row in zip(deliveries, rows, strict=True):
        pk = message_keys[delivery.message_id]
        body = found.get((pk, keys.BODY_SK))
        _with_body(row, delivery.channel, body_kept(messages.get(delivery.message_id)),
                   body if isinstance(body, MessageBody) else None)
    _mark_suppressed(deliveries, rows, suppression_keys, found)
    return messages


def of_recipients(tenant: str, deliveries: Sequence[Delivery], rows: list[dict[str, Any]]) -> None:
    """The message detail's recipient rows: `suppressed`, from one BatchGetItem (the detail shows its
    message's body once, above them)."""
    suppression_keys = _suppression_keys(tenant, deliveries)
    wanted = list(suppression_keys.values())
    found = {(item.pk, item.sk): item for item in fanout.get_all(Suppression, wanted)} if wanted else {}
    _mark_suppressed(deliveries, rows, suppression_keys, found)


def _suppression_keys(tenant: str, deliveries: Sequence[Delivery]) -> dict[str, tuple[str, str]]:
    return {d.recipient_key: item_key(tenant, d.recipient_key) for d in deliveries if not d.erased_at}


def _mark_suppressed(deliveries: Sequence[Delivery], rows: list[dict[str, Any]],
                     suppression_keys: dict[str, tuple[str, str]], found: dict[tuple[str, str], Any]) -> None:
    for delivery, row in zip(deliveries, rows, strict=True):
        listed = found.get(suppression_keys[delivery.recipient_key]) if not delivery.erased_at else None
        row["suppressed"] = isinstance(listed, Suppression) and not listed.reset_at
