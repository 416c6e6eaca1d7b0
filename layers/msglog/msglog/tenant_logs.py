"""The tenant's own logs: activity and audit (seed 001), panel and user logins (seed 004), and the
API request log of this service, which the HTTP handlers' shared entrypoint writes itself: what
clients post, and the views of them. Every record is written by msglog.tenant_log_writer.

One item per record in a time-ordered, write-sharded feed per kind; records about an entity
(`family:12`) or a user (`user:ann`) are also indexed by it (gsi1), so an entity's log is one
Query. Audit and activity records are kept for good and never changed: no route updates or
deletes them, and a record id is written once (conditional put). API, panel and login records
expire after the tenant's `log_retention_days` (DynamoDB TTL).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import UpdateError

from msglog import ids, keys, pages, provenance
from msglog.auth import Caller
from msglog.clock import iso, now
from msglog.errors import BadRequest, FieldError, Forbidden
from msglog.listing import ListQuery
from msglog.models import LoginSummary, LogRecord, condition_failed
from msglog.tenant_log_writer import write
from msglog.tenants import display_name, feed_shards

if TYPE_CHECKING:  # bodies the handler validated: their models only as types
    from msglog.schemas import ActivityIn, LoginIn, PanelIn, TransactionIn

# view (route) -> kind of record, the right that reads it
KINDS = {"activity": ("activity", "logs:activity"), "audit": ("audit", "logs:audit"),
         "panel": ("panel", "logs:panel"), "logins": ("login", "logs:logins"), "api": ("api", "logs:api"),
         "transactions": ("transaction", "stats:read")}


def _actor(actor: Any) -> dict[str, Any]:
    return {"actor_id": actor.id, "actor_name": actor.name, "actor_email": actor.email} if actor else {}


def post_activity(caller: Caller, kind: str, body: ActivityIn) -> tuple[str, bool]:
    """An activity or audit record posted by the SaaS (right events:write): never one that reads as the
    service's own (msglog.provenance)."""
    caller.require("events:write")
    if body.org_unit and not caller.sees_org_unit(body.org_unit):
        raise Forbidden("you can only record entries of your org units",
                        [FieldError("org_unit", "is not one of your org units")])
    errors = provenance.client_entry_errors(body.action, body.at, kind=kind)
    if errors:
        raise BadRequest("the entry could be taken for one of this service's own", errors)
    return write(caller.tenant, kind, at=body.at, client_id=body.id, source=provenance.posted_by(caller.sub),
                 ip=body.ip, action=body.action, entity=body.entity, org_unit=body.org_unit, details=body.details,
                 **_actor(body.actor))


def post_panel(caller: Caller, body: PanelIn) -> tuple[str, bool]:
    caller.require("events:write")
    actor = body.actor
    return write(caller.tenant, "panel", at=body.at, client_id=body.id, source=provenance.posted_by(caller.sub),
                 ip=body.ip, url=body.url, method=body.method, status=None if body.status is None else str(body.status),
                 user_agent=body.user_agent, details=body.details,
                 entity=f"user:{actor.id}" if actor and actor.id else None, **_actor(actor))


def post_transaction(caller: Caller, body: TransactionIn) -> tuple[str, bool]:
    caller.require("admin")
    details = body.model_dump(include={"channel", "credits", "amount", "currency", "description"}, exclude_none=True)
    return write(caller.tenant, "transaction", at=body.at, client_id=body.id, source=provenance.posted_by(caller.sub),
                 ip=body.ip, action=body.type, details=details, **_actor(body.actor))


def post_login(caller: Caller, body: LoginIn) -> tuple[str, bool]:
    caller.require("events:write")
    at = body.at or now()
    record_id, new = write(caller.tenant, "login", at=at, client_id=body.id, source=provenance.posted_by(caller.sub),
                           ip=body.ip, status=body.status, user_agent=body.user_agent, country=body.country,
                           state=body.state, city=body.city,
                           details=body.details, entity=f"user:{body.user.id}", **_actor(body.user))
    _remember_login(caller.tenant, body.user.id, body.status, iso(at))
    return record_id, new


def _remember_login(tenant: str, user_id: str, status: str, at: str) -> None:
    """Keep the later of the stored and this time, whatever order the logins are posted in."""
    last = LoginSummary.last_success_at if status == "success" else LoginSummary.last_failure_at
    summary = LoginSummary(keys.login_summary_pk(tenant, user_id), keys.LOGIN_SUMMARY_SK)
    try:
        summary.update(actions=[last.set(at), LoginSummary.user_id.set(user_id), LoginSummary.type.set(LoginSummary)],
                       condition=last.does_not_exist() | (last < at))
    except UpdateError as error:
        if not condition_failed(error):
            raise


# ------------------------------------------------------------------ the views
_SHOWN = {
    "activity": ("ip", "action", "entity", "org_unit", "details"),
    "audit": ("ip", "action", "entity", "org_unit", "details"),
    "panel": ("ip", "url", "method", "status", "user_agent", "details"),
    "login": ("ip", "status", "country", "state", "city", "user_agent", "details"),
    "api": ("ip", "method", "url", "route", "status", "request_id", "user_agent"),
    "transaction": ("action", "details"),
}
_NUMERIC_STATUS = frozenset({"panel", "api"})


def _show(kind: str) -> Callable[[LogRecord], dict[str, Any]]:
    def show(record: LogRecord) -> dict[str, Any]:
        row: dict[str, Any] = {"id": record.record_id, "at": record.at,
                               "actor": {"id": record.actor_id, "name": record.actor_name,
                                         "email": record.actor_email},
                               "source": record.source}  # None: written before records said who wrote them
        for name in _SHOWN[kind]:
            value = getattr(record, name)
            row["path" if name == "url" and kind == "api" else name] = value.as_dict() if name == "details" and value \
                else value
        if kind in _NUMERIC_STATUS and row.get("status") is not None:
            row["status"] = int(row["status"])
        if kind == "transaction":  # {"type", "channel", "credits", "amount", "currency", "description"}
            row = {**row, "type": row.pop("action"), **(row.pop("details") or {})}
        return row

    return show


def _entity(kind: str, query: ListQuery) -> str | None:
    """The filter that is a key condition: an entity, or the user whose records these are."""
    user = query.filter("user") or query.filter("caller")
    return f"user:{user}" if user else query.filter("entity")


def view(caller: Caller, name: str, query: ListQuery, tenants: list[str] | None = None) -> dict[str, Any]:
    """One page of a log; `tenants`: an enterprise reading one linked customer's, or several at once, merged by
    time (the caller checked the links); each row then says whose it is, by name."""
    kind, right = KINDS[name]
    caller.require(right)
    low, high = ids.bounds(query.start, query.end)
    entity = _entity(kind, query)
    sources = [source for tenant in tenants or [caller.tenant] for source in _sources(tenant, kind, entity, low, high)]
    f = query.filter

    def keep(r: LogRecord) -> bool:
        return (
            isinstance(r, LogRecord)
            and (r.org_unit is None or caller.sees_org_unit(r.org_unit))
            and pages.equals(f("action") or f("type"), r.action)
            and pages.equals(f("status"), r.status)
            and pages.equals(f("method"), r.method)
            and pages.equals(f("ip"), r.ip)
            and (
                f("actor") is None
                or any(pages.equals(f("actor"), v) for v in (r.actor_id, r.actor_name, r.actor_email))
            )
            and pages.matches_text(
                query.q,
                r.action,
                r.entity,
                r.actor_name,
                r.actor_email,
                r.actor_id,
                r.ip,
                r.url,
                r.status,
                r.country,
                r.state,
                r.city,
                r.details and str(r.details.as_dict()),
            )
        )

    show = _show(kind)
    if tenants:
        show = _of_customer(show)
    page = pages.serve_page(caller, f"log:{name}", query, sources, keep, show)
    if kind == "login":
        _with_last_logins(caller.tenant, page["items"])
    return page


def _sources(tenant: str, kind: str, entity: str | None, low: str, high: str) -> list[pages.Source]:
    """One tenant's Queries: an entity's records (gsi1), or the feed's shards. Named by tenant, so that several
    tenants' merge in one cursor."""
    if entity:
        return [pages.Source(f"{tenant}/e", partial(LogRecord.gsi1.query, keys.log_entity_pk(tenant, kind, entity),
                                                    LogRecord.gsi1sk.between(low, high)),
                             ("pk", "sk", "gsi1pk", "gsi1sk"), "gsi1sk")]
    return [pages.Source(f"{tenant}/s{shard}", partial(LogRecord.query, keys.log_pk(tenant, kind, shard),
                                                       LogRecord.sk.between(low, high)), ("pk", "sk"), "sk")
            for shard in range(feed_shards(tenant))]


def _of_customer(show: Callable[[LogRecord], dict[str, Any]]) -> Callable[[LogRecord], dict[str, Any]]:
    """Rows of linked customers say whose they are: `customer` (the tenant id) and `customer_name`."""
    def shown(record: LogRecord) -> dict[str, Any]:
        tenant = keys.tenant_of(record.pk)
        return {**show(record), "customer": tenant, "customer_name": display_name(tenant)}

    return shown


def _with_last_logins(tenant: str, rows: list[dict[str, Any]]) -> None:
    """Each login row shows its user's last successful and last failed login (one BatchGet a page)."""
    users = {row["actor"]["id"] for row in rows if row["actor"]["id"]}
    found = {s.user_id: s for s in LoginSummary.batch_get(
        [(keys.login_summary_pk(tenant, user), keys.LOGIN_SUMMARY_SK) for user in users])} if users else {}
    for row in rows:
        summary = found.get(row["actor"]["id"])
        row["last_success_at"] = summary.last_success_at if summary else None
        row["last_failure_at"] = summary.last_failure_at if summary else None
