"""The ingestion log (the CRM e-mail logger's admin log): what became of each webhook request.

One item per request — its outcome codes counted, and per event (up to 100) the code, event,
subject, message and recipient — so a busy batch costs one write, not one per event. Refused
requests of a known tenant are recorded too (NOLOG_BAD_SIGNATURE, NOLOG_MALFORMED, …); an
unknown tenant has no log to write to. Malformed items of a batch are kept raw here (up to 50,
the first 2,000 characters of each; a longer one is kept whole in S3, `raw_key`). With privacy mode
on, recipients and raw items are left out. A record stays within MAX_RECORD_BYTES: the events and
items beyond are counted in `outcomes`, not listed (an item over 400 KB would fail every retry).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from msglog import keys
from msglog.clock import iso, now
from msglog.ids import new_ulid
from msglog.models import IngestionRecord
from msglog.tenants import feed_shards, settings

MAX_EVENTS_PER_RECORD = 100
MAX_MALFORMED_KEPT = 50
MAX_RAW_CHARS = 2000  # of each malformed item
MAX_RECORD_BYTES = 300_000  # of its listed events and items together: DynamoDB's limit is 400 KB an item


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one event (or, at recording, one recipient the logging policy left out)."""

    event_id: str
    code: str
    message_id: str | None = None
    event: str | None = None
    subject: str | None = None
    recipient: str | None = None
    linked_at: str | None = None  # LOG_LINKED: when the event was linked to its message


def record(tenant: str, provider: str, request_id: str | None, counts: dict[str, int],
           outcomes: Iterable[Outcome] = (), detail: str | None = None, malformed: Iterable[Any] = ()) -> None:
    at = now()
    record_id = new_ulid(at)
    tenant_settings = settings(tenant)
    private = bool(tenant_settings.privacy_mode)
    keep_until = at + timedelta(days=int(tenant_settings.log_retention_days))
    events = [
        {name: value for name, value in (
            ("code", o.code), ("event_id", o.event_id), ("event", o.event), ("subject", o.subject),
            ("message_id", o.message_id), ("recipient", None if private else o.recipient),
            ("linked_at", o.linked_at)) if value is not None}
        for o in list(outcomes)[:MAX_EVENTS_PER_RECORD]
    ]
    kept = [  # malformed batch items, raw — unless privacy mode (they may hold addresses)
        {"index": m.index, "fields": ", ".join(e.field for e in m.errors)[:MAX_RAW_CHARS],
         **({} if private else {"raw": m.raw[:MAX_RAW_CHARS], **({"raw_key": m.raw_key} if m.raw_key else {})})}
        for m in list(malformed)[:MAX_MALFORMED_KEPT]
    ]
    events, kept = _within(events + kept, MAX_RECORD_BYTES, len(events))
    IngestionRecord(
        keys.ingestion_pk(tenant, keys.shard_of(record_id, feed_shards(tenant))), record_id,
        request_id=request_id, provider=provider, received_at=iso(at), outcomes=dict(counts),
        events=events or None, malformed=kept or None, detail=detail, expires_at=keep_until,
    ).save()


def _within(entries: list[dict[str, Any]], budget: int, events: int) -> tuple[list[Any], list[Any]]:
    """The first of `entries` (`events` events, then malformed items) whose JSON fits in `budget`
    bytes, split back into events and items."""
    fitting = 0
    for entry in entries:
        budget -= len(json.dumps(entry, ensure_ascii=False).encode())
        if budget < 0:
            break
        fitting += 1
    return entries[:min(fitting, events)], entries[events:max(fitting, events)]
