"""The ingestion log (the CRM e-mail logger's admin log): what became of each webhook request.

One item per request — its outcome codes counted, and per event (up to 100) the code, event,
subject, message and recipient — so a busy batch costs one write, not one per event. Refused
requests of a known tenant are recorded too (NOLOG_BAD_SIGNATURE, NOLOG_MALFORMED, …); an
unknown tenant has no log to write to. Malformed items of a batch are kept raw here (up to 50,
2,000 characters each). With privacy mode on, recipients and raw items are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from msglog import keys
from msglog.clock import iso, now
from msglog.ids import new_ulid
from msglog.models import IngestionRecord
from msglog.tenants import feed_shards, settings

MAX_EVENTS_PER_RECORD = 100
MAX_MALFORMED_KEPT = 50


def record(tenant: str, provider: str, request_id: str | None, counts: dict[str, int],
           outcomes: Iterable[Any] = (), detail: str | None = None, malformed: Iterable[Any] = ()) -> None:
    at = now()
    record_id = new_ulid(at)
    tenant_settings = settings(tenant)
    private = bool(tenant_settings.privacy_mode)
    keep_until = at + timedelta(days=int(tenant_settings.log_retention_days))
    events = [
        {name: value for name, value in (
            ("code", o.code), ("event_id", o.event_id), ("event", o.event), ("subject", o.subject),
            ("message_id", o.message_id), ("recipient", None if private else o.recipient)) if value is not None}
        for o in list(outcomes)[:MAX_EVENTS_PER_RECORD]
    ]
    kept = [  # malformed batch items, raw — unless privacy mode (they may hold addresses)
        {"index": m.index, "fields": ", ".join(e.field for e in m.errors), **({} if private else {"raw": m.raw})}
        for m in list(malformed)[:MAX_MALFORMED_KEPT]
    ]
    IngestionRecord(
        keys.ingestion_pk(tenant, keys.shard_of(record_id, feed_shards(tenant))), record_id,
        request_id=request_id, provider=provider, received_at=iso(at), outcomes=dict(counts),
        events=events or None, malformed=kept or None, detail=detail, expires_at=keep_until,
    ).save()
