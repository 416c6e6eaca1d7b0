"""The ingestion log (the CRM e-mail logger's admin log): what became of each webhook request.

One item per request — its outcome codes counted, and per event (up to 100) the code, event,
subject, message and recipient — so a busy batch costs one write, not one per event. Refused
requests of a known tenant are recorded too (NOLOG_BAD_SIGNATURE, NOLOG_MALFORMED, …); an
unknown tenant has no log to write to. Malformed items of a batch are kept raw here (up to 50,
the first 2,000 characters of each; a longer one is kept whole in S3, `raw_key`). With privacy mode
on, recipients and raw items are left out. A record stays within MAX_RECORD_BYTES: the events and
items beyond are counted in `outcomes`, not listed (an item over 400 KB would fail every retry).

A request that carries a stable id its provider signs (Mailgun's timestamp + token, SNS's MessageId:
`providers.RequestKey`) gets a row whose key derives from that id (`claim`), written once, on condition
it is not there yet, before the request's events: it is also the request's replay guard — one write
where a guard item and a row were two (docs/decisions.md, "One write per single-event webhook").
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from msglog import keys
from msglog.clock import iso, now
from msglog.config import config
from msglog.ids import derived_ulid, new_ulid
from msglog.models import IngestionRecord, put_if_absent
from msglog.providers import RequestKey
from msglog.tenants import feed_shards, settings

MAX_EVENTS_PER_RECORD = 100
MAX_MALFORMED_KEPT = 50
MAX_RAW_CHARS = 2000  # of each malformed item
GUARD_DAYS = timedelta(days=1)  # the least a keyed row lives: providers retry for hours
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


class Claim(Enum):
    """What `claim` found: the request's row was written now, by an earlier attempt with the same content
    (a retry), or with other content (a replay of what was signed)."""

    NEW = "new"
    RETRY = "retry"
    OTHER_CONTENT = "other content"


def record(tenant: str, provider: str, request_id: str | None, counts: dict[str, int],
           outcomes: Iterable[Outcome] = (), detail: str | None = None, malformed: Iterable[Any] = (),
           key: RequestKey | None = None) -> None:
    """Write a request's row (`key`: over the one `claim` wrote)."""
    row(tenant, provider, request_id, counts, outcomes, detail=detail, malformed=malformed, key=key).save()


def claim(tenant: str, provider: str, request_id: str | None, key: RequestKey, counts: dict[str, int],
          outcomes: Iterable[Outcome] = (), malformed: Iterable[Any] = ()) -> Claim:
    """Write the row of a request keyed by what its provider signs, unless it is there: one conditional put.
    A condition that fails reads the row (consistently) to tell a retry from a replay."""
    item = row(tenant, provider, request_id, counts, outcomes, malformed=malformed, key=key)
    if (earlier := put_if_absent(item)) is None:
        return Claim.NEW
    return Claim.RETRY if earlier.digest == key.digest else Claim.OTHER_CONTENT


def row(tenant: str, provider: str, request_id: str | None, counts: dict[str, int],
        outcomes: Iterable[Outcome] = (), *, detail: str | None = None, malformed: Iterable[Any] = (),
        key: RequestKey | None = None) -> IngestionRecord:
    """A request's row, not yet written. Its id is a ULID of when it was received — or, for a request with
    a `key`, of the time its provider signed, its random part derived from the signed id: every attempt of
    the request has the same row."""
    at = now()
    record_id = derived_ulid(key.at, f"{provider}#{key.signed}") if key else new_ulid(at)
    tenant_settings = settings(tenant)
    private = bool(tenant_settings.privacy_mode)
    retained = at + timedelta(days=int(tenant_settings.log_retention_days))
    keep_until: datetime | None = retained
    if key:  # the replay guard: kept as long as a signature is accepted (for ever with the age check off)
        max_age = config().webhook_max_age_seconds
        keep_until = max(retained, at + GUARD_DAYS, at + 2 * timedelta(seconds=max_age)) if max_age else None
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
    return IngestionRecord(
        keys.ingestion_pk(tenant, keys.shard_of(record_id, feed_shards(tenant))), record_id,
        request_id=request_id, provider=provider, received_at=iso(at), outcomes=dict(counts),
        events=events or None, malformed=kept or None, detail=detail, expires_at=keep_until,
        digest=key.digest if key else None,
    )


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
