"""The retention purge: e-mail bodies go `retention_months` after their send date; the message, its
recipients, statuses and events stay, and the detail says when the body was purged.

Reads (docs/data-model.md, patterns 18 and 18b): the tenants from the registry, then per tenant and
shard one Query of gsi3 with `gsi3sk < iso(now − retention)` — the sort key starts with the send
time, so a Query returns due bodies only: reads ≈ purges, no Scan. Each body, in this order, every
step idempotent (`bodies.remove`, which the erasure shares):

1. the message gets `body_purged_at` (kept if already set): from now on the detail shows no body;
2. a body kept in S3 loses its object;
3. the body item is deleted on condition that it still exists — only the run whose delete succeeds
   counts it, so two runs at once count each body once.

A run that stops or fails between the steps leaves a message that already says purged and a body
item the next run finds again. Tenants take turns, one batch per shard each, so one tenant's
backlog does not hold up the others; the run stops before the Lambda's time runs out (RESERVE_MS)
and the next run carries on. Each tenant with something due gets an audit entry per run.
"""

from __future__ import annotations

import calendar
import random
import string
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from msglog import audit, bodies, keys, tenants
from msglog.auth import TENANT_ID
from msglog.clock import iso, now
from msglog.ids import new_ulid
from msglog.models import Message, MessageBody

logger = Logger(child=True)
RESERVE_MS = 30_000  # what the batch under way and the audit entries may still need when the run stops
ACTOR = "system:purge"
ENTITY = "retention"  # the audit log's entity: a tenant's purge history is one gsi1 Query


class PurgeIn(BaseModel):
    """The function's input (EventBridge Scheduler, or an operator's invoke)."""

    model_config = ConfigDict(extra="forbid")
    dry_run: bool = Field(False, description="report what is due without deleting anything")
    batch_size: Annotated[int, Field(ge=1, le=1000)] = 100
    tenant: Annotated[str, Field(pattern=TENANT_ID.pattern)] | None = Field(None, description="only this tenant")


def options(event: Any) -> PurgeIn:
    """The run's options; a ValueError (the invocation fails, saying which field) if the event is not valid."""
    return PurgeIn.model_validate(event or {})


def months_before(at: datetime, months: int) -> datetime:
    """`at` minus calendar months (31 March − 1 month = 28/29 February)."""
    year, month = divmod(at.year * 12 + at.month - 1 - months, 12)
    return at.replace(year=year, month=month + 1, day=min(at.day, calendar.monthrange(year, month + 1)[1]))


@dataclass
class _Tenant:
    tenant: str
    retention_months: int
    cutoff: str  # bodies sent before this are due
    positions: dict[int, dict[str, Any] | None]  # shard -> where its next Query starts; gone once read through
    found: int = 0
    purged: int = 0
    oldest: str | None = None  # send times of the bodies purged (dry run: found)
    newest: str | None = None
    seconds: float = 0.0
    error: str | None = None

    @property
    def done(self) -> bool:
        return not self.positions or self.error is not None

    def counted(self, sent_at: str) -> None:
        self.oldest = min(self.oldest or sent_at, sent_at)
        self.newest = max(self.newest or sent_at, sent_at)

    def report(self) -> dict[str, Any]:
        return {"found": self.found, "purged": self.purged, "oldest_sent_at": self.oldest,
                "newest_sent_at": self.newest, "retention_months": self.retention_months, "cutoff": self.cutoff,
                "complete": not self.positions and self.error is None, "error": self.error,
                "duration_ms": int(self.seconds * 1000)}


def run(opts: PurgeIn, time_left: Callable[[], int]) -> dict[str, Any]:
    """One run over every registered tenant (or `opts.tenant`); `time_left()` is the Lambda's, in ms."""
    started, run_id, at = time.monotonic(), new_ulid(), now()
    states: list[_Tenant] = []
    queue: deque[_Tenant] = deque()
    listing: Iterator[str] | None = iter([opts.tenant] if opts.tenant else tenants.registered(_start()))
    stopped = False
    while listing is not None or queue:
        if time_left() < RESERVE_MS:
            stopped = True
            break
        if listing is not None:  # the first turn of each listed tenant, before anyone's second
            name = next(listing, None)
            if name is None:
                listing = None
                continue
            state = _open(name, at)
            states.append(state)
        else:
            state = queue.popleft()
        if state.error is None:
            _turn(state, opts, iso(at), time_left)
        if state.done:
            _close(state, run_id, opts.dry_run)
        else:
            queue.append(state)
    for state in queue:  # out of time: what they did so far is recorded; the next run continues
        _close(state, run_id, opts.dry_run)
    return {
        "run_id": run_id, "dry_run": opts.dry_run, "complete": not stopped and not any(s.error for s in states),
        "tenants": len(states), "found": sum(s.found for s in states), "purged": sum(s.purged for s in states),
        "errors": sum(1 for s in states if s.error), "duration_ms": int((time.monotonic() - started) * 1000),
        "by_tenant": {s.tenant: s.report() for s in states if s.found or s.error},
    }


def _start() -> str:
    # Each run starts the registry at another point: if runs cannot get through every tenant, no
    # tenant always comes last.
    return random.choice(string.digits + string.ascii_letters)


def _open(tenant: str, at: datetime) -> _Tenant:
    try:
        current = tenants.settings(tenant, fresh=True)  # a retention changed since the last run counts now
        months = int(current.retention_months)
        shards = int(current.feed_shards or keys.DEFAULT_FEED_SHARDS)
    except Exception as error:  # noqa: BLE001 - this tenant waits for the next run; the others go on
        return _failed(_Tenant(tenant, 0, "", {}), error)
    return _Tenant(tenant, months, iso(months_before(at, months)), dict.fromkeys(range(shards)))


def _turn(state: _Tenant, opts: PurgeIn, purged_at: str, time_left: Callable[[], int]) -> None:
    """One batch from each shard that still has due bodies (while there is time)."""
    for shard in list(state.positions):
        if time_left() < RESERVE_MS:
            return
        started = time.monotonic()
        try:
            _batch(state, shard, opts, purged_at)
        except Exception as error:  # noqa: BLE001 - e.g. throttling that outlasted the retries
            _failed(state, error)
            return
        finally:
            state.seconds += time.monotonic() - started


def _batch(state: _Tenant, shard: int, opts: PurgeIn, purged_at: str) -> None:
    page = MessageBody.gsi3.query(keys.body_due_pk(state.tenant, shard), MessageBody.gsi3sk < state.cutoff,
                                  limit=opts.batch_size, last_evaluated_key=state.positions[shard])
    read = purged = 0
    for body in page:
        read += 1
        state.found += 1
        if opts.dry_run:
            state.counted(keys.body_sent_at(body.gsi3sk))
        elif bodies.remove(body, Message.body_purged_at, purged_at):
            purged += 1
            state.purged += 1
            state.counted(keys.body_sent_at(body.gsi3sk))
    if page.last_evaluated_key is None:
        del state.positions[shard]
    else:
        state.positions[shard] = page.last_evaluated_key
    logger.debug("purge batch", extra={"tenant_id": state.tenant, "shard": shard, "read": read, "purged": purged})


def _failed(state: _Tenant, error: Exception) -> _Tenant:
    state.error = getattr(error, "cause_response_code", None) or type(error).__name__
    logger.exception("retention purge failed for a tenant; the next run continues",
                     extra={"tenant_id": state.tenant, "error": state.error})
    return state


def _close(state: _Tenant, run_id: str, dry_run: bool) -> None:
    """Log the tenant's part of the run and, if it found anything (or failed), audit it."""
    report = state.report()
    if not (state.found or state.error):
        logger.debug("retention purge: nothing due", extra={"tenant_id": state.tenant})
        return  # nothing changed to audit
    logger.info("retention purge: tenant", extra={"tenant_id": state.tenant, "dry_run": dry_run, **report})
    try:
        audit.record(
            state.tenant,
            actor=ACTOR,
            action="retention.purge_dry_run" if dry_run else "retention.bodies_purged",
            entity=ENTITY,
            details={"run_id": run_id, "dry_run": dry_run, **report},
        )
    except Exception as error:  # noqa: BLE001 - the purge itself is done; the log above has its figures
        _failed(state, error)
