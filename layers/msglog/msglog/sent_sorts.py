"""The sent log in the order of any of its columns, at any size of date range (docs/data-model.md, pattern 4b).

A message is written once more per sortable column (`keys.SENT_SORT_COLUMNS`): a copy of it (SortedMessage,
`SORT#<column>` in its own partition) whose gsi7 key is `T#t#SORT#<column>#<s>` / `<value>\\x1f<mid>`, where
`<s>` is the message's sent-feed shard. A page is one Query per shard in the index's order, merged
(msglog.pages), like the date order's: its cost does not depend on how many messages the range holds.
The copies show the message as it was last written: whatever changes a column of META (its status, its
scheduled time) calls `save` again, which rewrites them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from msglog import fanout, keys, pages
from msglog.models import Message, SortedMessage
from msglog.precedence import message_rank


def _sender(message: Message) -> str:
    sender = message.sender
    return (sender and (sender.name or sender.id)) or ""


# column -> its value as it orders (before keys.sortable); a missing value is "", first in ascending order
VALUES: dict[str, Callable[[Message], str]] = {
    "scheduled_at": lambda m: m.scheduled_at or "",
    "status": lambda m: status_value(m.status),
    "category": lambda m: m.category or "",
    "org_unit": lambda m: m.org_unit or "",
    "subject": lambda m: m.subject or "",
    "sender": _sender,
    "schedule_id": lambda m: m.schedule_id or "",
}
# columns whose filter of the same name is the value itself: sorting by it, the filter is a key condition
KEYED_FILTERS: dict[str, Callable[[str], str]] = {
    "status": lambda value: status_value(value.casefold()), "category": str, "org_unit": str}


def status_value(status: str) -> str:
    """Precedence first (scheduled and queued, sent, then failures), then the status's name."""
    return f"{message_rank(status):02d} {status}"


def copies(tenant: str, message: Message, shards: int) -> list[SortedMessage]:
    shard = keys.shard_of(message.message_id, shards)
    fields = {name: getattr(message, name) for name in Message.get_attributes()
              if name not in ("pk", "sk", "type", "stats_pk", "stats_sk") and not name.startswith("gsi")}
    return [SortedMessage(message.pk, keys.sent_sort_item_sk(column), **fields,
                          gsi7pk=keys.sent_sort_pk(tenant, column, shard),
                          gsi7sk=keys.sent_sort_sk(VALUES[column](message), message.message_id))
            for column in keys.SENT_SORT_COLUMNS]


def save(tenant: str, message: Message, shards: int) -> None:
    """Write the message's copies (one BatchWriteItem), after META; again after any change of META that a
    copy shows (its status, its scheduled time): they are rewritten whole. A retry writes the same items."""
    fanout.save_all(SortedMessage, copies(tenant, message, shards))


def sources(tenant: str, column: str, shards: int, keyed_filter: str | None) -> list[pages.Source]:
    """One Query per shard of gsi7 for `column`; `keyed_filter`: only that value of it (begins_with)."""
    condition = SortedMessage.gsi7sk.startswith(keys.sent_sort_prefix(keyed_filter)) if keyed_filter is not None \
        else None
    return [pages.Source(f"s{shard}", partial(SortedMessage.gsi7.query, keys.sent_sort_pk(tenant, column, shard),
                                              condition), ("pk", "sk", "gsi7pk", "gsi7sk"), "gsi7sk")
            for shard in range(shards)]
