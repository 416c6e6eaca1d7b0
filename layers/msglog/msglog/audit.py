"""Audit entries this service writes about its own changes (provider credentials, tenant settings,
suppressions, purges): who changed what, and when. They land in the audit log (msglog.tenant_logs),
where no route can change or delete them, marked as the service's own (msglog.provenance)."""

from __future__ import annotations

from typing import Any

from msglog.provenance import SERVICE


def record(tenant: str, *, actor: str, action: str, entity: str, details: dict[str, Any] | None = None) -> None:
    # the audit log's writer, on first use: the webhook path imports this module, never audits
    from msglog import tenant_logs

    tenant_logs.write(tenant, "audit", actor_id=actor, action=action, entity=entity, source=SERVICE,
                  details={k: v for k, v in (details or {}).items() if v is not None} or None)
