"""Operator commands (README, Operations): run by `make <command>` locally and by
`sam remote invoke OperationsFunction` in AWS — never through the public API. Each is audited
in the tenant's audit log with the actor `operator`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationInfo, field_validator

from msglog import audit, recovery, reindex, tenant_admin, tenants
from msglog.auth import TENANT_ID
from msglog.fields import Instant
from msglog.schemas import Strict, TenantPatch

TenantId = Annotated[str, Field(pattern=TENANT_ID.pattern)]


class Onboard(TenantPatch):
    command: Literal["onboard-tenant"]
    tenant: TenantId
    feed_shards: Annotated[int, Field(ge=1, le=64)] | None = Field(
        None, description="write shards of the tenant's feeds: 4 take 2,000 events/s; set before its traffic starts")


class Link(Strict):
    command: Literal["link-customers", "unlink-customers"]
    enterprise: TenantId
    customers: Annotated[list[TenantId], Field(min_length=1, max_length=500)]

    @field_validator("customers")
    @classmethod
    def _unique(cls, customers: list[str]) -> list[str]:
        return sorted(set(customers))


class Reindex(Strict):
    """Write the index entries of messages recorded before the index existed (msglog.reindex): the sent log's
    sort copies (gsi7), or the sends feed's keys (gsi3); or count the messages recorded before counts existed;
    call again with `after` = the answer's `next` until it is null."""

    command: Literal["index-sent-sorts", "index-sends", "count-messages"]
    tenant: TenantId
    after: dict[str, Any] | None = None
    limit: Annotated[int, Field(ge=1, le=5000)] = 1000


class Recover(Strict):
    """Fetch a window of a provider's events from its API and ingest them (msglog.recovery); run again to go
    on from its checkpoint, `again` to fetch a finished window once more."""

    command: Literal["recover"]
    tenant: TenantId
    provider: Literal["mailgun", "sendgrid", "postmark", "twilio"]
    from_: Instant = Field(alias="from")
    to: Instant
    again: bool = False

    @field_validator("to")
    @classmethod
    def _after_from(cls, to: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("from_")
        if start is not None and not start < to <= start + recovery.MAX_WINDOW:
            raise ValueError(f"must be after from, at most {recovery.MAX_WINDOW.days} days after it")
        return to


Command = TypeAdapter(Annotated[Onboard | Link | Reindex | Recover, Field(discriminator="command")])
REINDEX = {"index-sent-sorts": (reindex.sent_sorts_index, "sent_sorts_indexed"),
           "index-sends": (reindex.sends_index, "sends_indexed"),
           "count-messages": (reindex.message_counts, "messages_counted")}


def run(event: Any, time_left: Callable[[], int] | None = None) -> dict[str, Any]:
    command = Command.validate_python(event)
    if isinstance(command, Recover):  # audited by the recovery itself: started, then each run's progress
        return recovery.recover(command.tenant, command.provider, command.from_, command.to, again=command.again,
                                time_left=time_left)
    if isinstance(command, Reindex):
        backfill, action = REINDEX[command.command]
        done = backfill(command.tenant, command.after, command.limit)
        audit.record(command.tenant, actor="operator", action=f"tenant.{action}", entity="tenant",
                     details={"messages": str(done["messages"]), "written": str(done["written"]),
                              "complete": str(done["next"] is None)})
        return done
    if isinstance(command, Onboard):
        changes = command.model_dump(exclude={"command", "tenant"}, exclude_none=True)
        tenant_admin.change_settings(command.tenant, "operator", changes)
        audit.record(command.tenant, actor="operator", action="tenant.onboarded", entity="tenant",
                     details={name: str(value) for name, value in changes.items()})
        return {"tenant": command.tenant, "settings": changes}
    item = tenants.settings(command.enterprise, fresh=True)
    linked = set(item.customers or ())
    linked = linked | set(command.customers) if command.command == "link-customers" else linked - set(command.customers)
    linked.discard(command.enterprise)
    item.customers = linked or None
    item.save()
    audit.record(command.enterprise, actor="operator", action=f"enterprise.{command.command}", entity="tenant",
                 details={"customers": ",".join(command.customers)})
    return {"enterprise": command.enterprise, "customers": sorted(linked)}
