"""Writing one record into the tenant's own logs (msglog.tenant_logs reads them): the service's
audit entries (msglog.audit), the API request log (msglog.http) and what clients post. Apart from the
views of those logs, so that what only writes a line loads none of the paging.

One item per record in a time-ordered, write-sharded feed per kind; a record about an entity is also
indexed by it (gsi1). Activity, audit and transaction records are kept for good; the others expire
after the tenant's `log_retention_days` (DynamoDB TTL).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError

from msglog import ids, keys, provenance
from msglog.clock import iso, now
from msglog.models import LogRecord, condition_failed
from msglog.tenants import feed_shards, settings

KEPT_FOR_GOOD = frozenset({"activity", "audit", "transaction"})


def write(tenant: str, kind: str, *, at: datetime | None = None, client_id: str | None = None,
          source: str = provenance.SERVICE, **fields: Any) -> tuple[str, bool]:
    """Store one record; (its id, whether it is new). A client's retry (same id and time) is stored once.
    `source`: who wrote it — the service, or the caller that posted it (provenance.posted_by)."""
    at = at or now()
    record_id = ids.derived_ulid(at, f"{kind}#{client_id}") if client_id else ids.new_ulid(at)
    item = LogRecord(keys.log_pk(tenant, kind, keys.shard_of(record_id, feed_shards(tenant))), record_id,
                     kind=kind, record_id=record_id, at=iso(at), source=source,
                     **{name: value for name, value in fields.items() if value not in (None, {}, "")})
    if item.entity:
        item.gsi1pk, item.gsi1sk = keys.log_entity_pk(tenant, kind, item.entity), record_id
    if kind not in KEPT_FOR_GOOD:
        item.expires_at = at + timedelta(days=int(settings(tenant).log_retention_days))
    try:
        item.save(condition=LogRecord.pk.does_not_exist())
    except PutError as error:
        if condition_failed(error):
            return record_id, False
        raise
    return record_id, True


def api_call(tenant: str, *, caller_id: str, caller_name: str | None, method: str, path: str, route: str,
             status: int, ip: str | None, user_agent: str | None, request_id: str | None) -> None:
    """One line of the API request log: never a body or query string; under privacy mode the
    route stands in for the path (paths can hold addresses)."""
    write(tenant, "api", method=method, url=route if settings(tenant).privacy_mode else path, route=route,
          status=str(status), ip=ip, user_agent=user_agent, request_id=request_id, entity=f"user:{caller_id}",
          actor_id=caller_id, actor_name=caller_name)
