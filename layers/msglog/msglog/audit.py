"""The audit log: who changed what, and when. Entries are written here and never changed or
deleted by any route (issue 4 adds the view and POST /v1/audit for the SaaS's own entries)."""

from __future__ import annotations

from typing import Any

from msglog import keys
from msglog.clock import iso, now
from msglog.ids import new_ulid
from msglog.models import AuditEntry
from msglog.tenants import feed_shards


def record(tenant: str, *, actor: str, action: str, entity: str, details: dict[str, Any] | None = None) -> None:
    at = now()
    entry_id = new_ulid(at)
    AuditEntry(keys.audit_pk(tenant, keys.shard_of(entry_id, feed_shards(tenant))), entry_id, actor=actor,
               action=action, entity=entity, at=iso(at),
               details={k: v for k, v in (details or {}).items() if v is not None} or None).save()
