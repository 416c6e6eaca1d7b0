"""Ingestion health (SPEC 7, the CRM logger's "are ANY emails logging?"): notice a tenant/provider
pair whose webhooks stopped arriving, judged against its own usual traffic, and alert once per
incident. docs/decisions.md says why the rule is this one.

**Signal**: hourly counters of verified webhook requests per tenant and provider, written on
the webhook path (msglog.arrivals: coalesced, best effort).

**Rule, in the scheduled check** (`run`). Per pair, one Query reads `history_days` of counters and
the pair's incidents. A pair is *silent* when it has had no webhook for `grace_hours` longer than
its longest quiet spell in that history (between two hours with traffic; spells that were
incidents left out): nights, weekends or a weekly newsletter are normal for pairs that have them,
and a pair with traffic in every hour is silent after `grace_hours`. A pair with fewer than
`min_active_hours` hours with traffic or `min_events` events in the history never alerts: too
little to know what normal is.

**Once per incident, then daily.** The open incident (sk `INCIDENT`) is created by a conditional put: only the
run whose put succeeds publishes (if publishing fails it deletes the incident again, and the next
run retries). When webhooks come back, the run whose conditional delete succeeds records the
recovery and keeps the incident closed (TTL) so that its silence does not count as normal. Both go
to the alerts topic (msglog.alerts) and into the tenant's ingestion log as ALERT_NO_WEBHOOKS /
ALERT_RECOVERED. Two runs at once publish each of them once.
"""

from __future__ import annotations

import random
import string
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from pynamodb.exceptions import DeleteError, PutError

from msglog import alerts, ingestion_log, keys, recovery, tenants
from msglog.arrivals import KEEP_DAYS, hour_of, hour_start
from msglog.auth import TENANT_ID, Caller
from msglog.clock import iso, now
from msglog.ids import new_ulid
from msglog.models import Arrivals, Entity, HealthIncident, condition_failed, update_if

logger = Logger(child=True)
ALERT_NO_WEBHOOKS = "ALERT_NO_WEBHOOKS"
ALERT_RECOVERED = "ALERT_RECOVERED"
HISTORY_DAYS = 14  # two of each weekday: weekly patterns show twice
GRACE_HOURS = 2  # silent this much longer than the longest usual quiet spell
MIN_ACTIVE_HOURS = 24  # hours with webhooks in the history, at least
MIN_EVENTS = 100  # events in the history, at least
MAX_AHEAD = timedelta(days=2)  # `now` may be this far in the future (tests, a preview), no further
RESERVE_MS = 30_000  # the run stops this long before the Lambda's time is up; the next run comes in 15 minutes
RECOVERY_MS = 60_000  # at most this of a run for one silent window's recovery: the other pairs still get checked
# Unfinished recoveries (rate limited, failed, stopped by their time) resumed by each run: at most this many
# jobs and this much of the run in all, so that the checks themselves always get their time.
RESUME_JOBS, RESUME_MS = 3, 120_000
HOUR = timedelta(hours=1)
REMIND_EVERY = timedelta(days=1)  # an open incident's alert repeats this often until it recovers (seed 003)
REFUSED_WITHIN = timedelta(days=1)  # refused requests this recent, none verified since: the screen says `refused`


# ------------------------------------------------------------------ the check
class HealthIn(BaseModel):
    """The check's input (EventBridge Scheduler every 15 minutes, or an operator's invoke)."""

    model_config = ConfigDict(extra="forbid")
    dry_run: bool = Field(False, description="report what it would alert and close, write and publish nothing")
    tenant: Annotated[str, Field(pattern=TENANT_ID.pattern)] | None = Field(None, description="only this tenant")
    now: AwareDatetime | None = Field(None, description="judge as at this time (a re-run, a preview, tests)")
    history_days: Annotated[int, Field(ge=1, le=KEEP_DAYS - 1)] = HISTORY_DAYS  # older counters expire
    grace_hours: Annotated[int, Field(ge=1, le=168)] = GRACE_HOURS
    min_active_hours: Annotated[int, Field(ge=1, le=KEEP_DAYS * 24)] = MIN_ACTIVE_HOURS
    min_events: Annotated[int, Field(ge=1)] = MIN_EVENTS

    @field_validator("now")
    @classmethod
    def _not_far_ahead(cls, at: datetime | None) -> datetime | None:
        if at is not None and at > now() + MAX_AHEAD:
            raise ValueError("must not be more than 2 days ahead")
        return at


def options(event: Any) -> HealthIn:
    """The run's options; a ValueError (the invocation fails, saying which field) if the event is not valid."""
    return HealthIn.model_validate(event or {})


@dataclass
class Pair:
    """What one Query says about a tenant/provider pair."""

    tenant: str
    provider: str
    active: list[datetime]  # start of each hour with webhooks, oldest first
    events: int
    open: HealthIncident | None
    closed: set[str]  # silent_since of closed incidents: their silence was not normal
    refused: list[datetime] = field(default_factory=list)  # start of each hour with requests refused (401)

    def refused_only(self, at: datetime) -> datetime | None:
        """The first hour of the last day with requests refused for their signature or credentials and none
        verified since it (a signing key wrong from the start, or a rotation gone wrong); else None."""
        first = next((h for h in self.refused if h >= at - REFUSED_WITHIN), None)
        return first if first is not None and not any(h >= first for h in self.active) else None

    @property
    def silent_since(self) -> datetime | None:
        return self.active[-1] + HOUR if self.active else None

    @property
    def longest_quiet_hours(self) -> int:
        gaps = [b - a - HOUR for a, b in zip(self.active, self.active[1:], strict=False)
                if iso(a + HOUR) not in self.closed]
        return int(max(gaps, default=timedelta(0)) / HOUR)

    def threshold_hours(self, opts: HealthIn) -> int | None:
        """Hours without webhooks that are unusual for this pair; None: too little history to say."""
        if len(self.active) < opts.min_active_hours or self.events < opts.min_events:
            return None
        return self.longest_quiet_hours + opts.grace_hours

    def silent_hours(self, at: datetime) -> float:
        since = self.silent_since
        return max(0.0, (at - since) / HOUR) if since else 0.0


def read(tenant: str, provider: str, at: datetime, history_days: int) -> Pair:
    """The pair's history up to `at` and its incidents: one Query (`sk >= H#<first hour>`)."""
    first, last = hour_of(at - timedelta(days=history_days)), hour_of(at)
    counts: dict[str, int] = {}
    refused: list[str] = []
    open_incident, closed = None, set()
    for item in Entity.query(keys.health_pk(tenant, provider), Entity.sk >= keys.health_hour_sk(first)):
        if isinstance(item, Arrivals) and item.hour <= last:
            counts[item.hour] = int(item.events)
            refused += [item.hour] if item.refused else []
        elif isinstance(item, HealthIncident) and item.sk == keys.HEALTH_OPEN_SK:
            open_incident = item
        elif isinstance(item, HealthIncident):
            closed.add(item.silent_since)
    active = [hour_start(h) for h in sorted(h for h, n in counts.items() if n > 0)]
    return Pair(tenant, provider, active, sum(counts.values()), open_incident, closed,
                [hour_start(h) for h in sorted(refused)])


@dataclass
class Run:
    run_id: str
    dry_run: bool
    tenants: int = 0
    pairs: int = 0
    too_little_history: int = 0
    opened: int = 0
    recovered: int = 0
    ongoing: int = 0
    reminded: int = 0
    errors: int = 0
    complete: bool = True
    resumed: list[dict[str, Any]] = field(default_factory=list)
    resume_ends_ms: float | None = None  # when this run's share for resuming recoveries is spent
    incidents: list[dict[str, Any]] = field(default_factory=list)
    time_left: Callable[[], int] = lambda: 0  # the function's; what a recovery of a silent window may use

    def note(self, incident: dict[str, Any]) -> None:
        self.incidents.append(incident)
        shown = {("tenant_id" if name == "tenant" else name): value for name, value in incident.items()}
        logger.info("ingestion health: incident", extra=shown)  # tenant, provider, times: never an address

    def report(self, started: float) -> dict[str, Any]:
        return {"run_id": self.run_id, "dry_run": self.dry_run, "complete": self.complete, "tenants": self.tenants,
                "pairs": self.pairs, "too_little_history": self.too_little_history, "opened": self.opened,
                "recovered": self.recovered, "ongoing": self.ongoing, "reminded": self.reminded, "errors": self.errors,
                "recoveries_resumed": self.resumed, "duration_ms": int((time.monotonic() - started) * 1000),
                "incidents": self.incidents}


def run(opts: HealthIn, time_left: Callable[[], int]) -> dict[str, Any]:
    """One check of every registered tenant's configured providers (or `opts.tenant`'s)."""
    started, at = time.monotonic(), opts.now or now()
    state = Run(new_ulid(), opts.dry_run, time_left=time_left)
    names: Iterable[str] = [opts.tenant] if opts.tenant else tenants.registered(_start())
    for tenant in names:
        if time_left() < RESERVE_MS:
            state.complete = False
            break
        state.tenants += 1
        try:
            providers = sorted(p.provider for p in tenants.configured_providers(tenant))
        except Exception:  # this tenant waits for the next run; the others go on
            logger.exception("ingestion health: the tenant's providers could not be read", extra={"tenant_id": tenant})
            state.errors += 1
            continue
        for provider in providers:
            state.pairs += 1
            try:
                _check(read(tenant, provider, at, opts.history_days), at, opts, state)
            except Exception:  # e.g. throttling that outlasted the retries; the next run sees it again
                logger.exception("ingestion health: check failed", extra={"tenant_id": tenant, "provider": provider})
                state.errors += 1
        if not opts.dry_run:
            _resume_recoveries(tenant, at, state)
    state.complete = state.complete and not state.errors
    return state.report(started)


def states(caller: Caller, at: datetime | None = None) -> dict[str, Any]:
    """Each configured provider's webhooks as the check judges them now (GET /v1/ingestion-health, right
    logs:ingestion; seed 003's "are ANY emails logging?"): the same Query per provider as the check,
    nothing written. `state`: `alerted` (an open incident: alerted, reminded daily), `refused` (in the
    last day requests came that failed their signature or credentials, and none passed since), `silent`
    (quieter than usual for longer than the grace: the next check alerts), `logging`, or `learning` (too
    little history to know what usual is: no alert will come)."""
    caller.require("logs:ingestion")
    at, opts = at or now(), options({})  # the scheduled check's own defaults
    shown = []
    for provider in sorted(p.provider for p in tenants.configured_providers(caller.tenant)):
        pair = read(caller.tenant, provider, at, opts.history_days)
        threshold, since = pair.threshold_hours(opts), pair.silent_since
        refused_since = pair.refused_only(at)
        if pair.open is not None:
            state = "alerted"
        elif refused_since is not None:
            state = "refused"
        elif threshold is None:
            state = "learning"
        elif since is not None and pair.silent_hours(at) >= threshold:
            state = "silent"
        else:
            state = "logging"
        incident = pair.open
        shown.append({
            "provider": provider, "state": state, "last_webhook_hour": iso(pair.active[-1]) if pair.active else None,
            "silent_hours": round(pair.silent_hours(at), 1), "threshold_hours": threshold,
            "history_events": pair.events, "history_days": opts.history_days,
            "refused_since_hour": iso(refused_since) if refused_since else None,
            "incident": None if incident is None else {
                "incident_id": incident.incident_id, "silent_since": incident.silent_since,
                "opened_at": incident.opened_at, "alerted_at": incident.alerted_at or incident.opened_at,
                "reminders": int(incident.reminders or 0)},
        })
    return {"checked_at": iso(at), "providers": shown}


def _start() -> str:
    # Each run starts the registry at another point, so that a run cut short never skips the same tenants.
    return random.choice(string.digits + string.ascii_letters)


def _check(pair: Pair, at: datetime, opts: HealthIn, state: Run) -> None:
    threshold = pair.threshold_hours(opts)
    since = pair.silent_since
    seen = {"tenant": pair.tenant, "provider": pair.provider, "silent_since": iso(since) if since else None,
            "silent_hours": round(pair.silent_hours(at), 1), "threshold_hours": threshold}
    if pair.open is not None:
        resumed = [h for h in pair.active if iso(h) >= pair.open.silent_since]
        if not resumed:
            state.ongoing += 1
            reminded = not opts.dry_run and _remind(pair, pair.open, at)
            state.reminded += reminded
            state.note({**seen, "state": "reminded" if reminded else "ongoing", "incident_id": pair.open.incident_id})
        elif opts.dry_run or _recover(pair, pair.open, resumed[0]):
            state.recovered += 1
            state.note({**seen, "state": "would_recover" if opts.dry_run else "recovered",
                        "incident_id": pair.open.incident_id,
                        **({} if opts.dry_run else _fetch_silence(pair, pair.open, resumed[0], state.time_left))})
        return
    if threshold is None:
        state.too_little_history += 1
        return
    if since is None or pair.silent_hours(at) < threshold:
        return
    incident_id = None if opts.dry_run else _open(pair, at, since, threshold, opts.history_days)
    if opts.dry_run or incident_id:
        state.opened += 1
        state.note({**seen, "state": "would_open" if opts.dry_run else "opened", "incident_id": incident_id})
    else:
        state.ongoing += 1  # another run opened it a moment ago


def _open(pair: Pair, at: datetime, since: datetime, threshold: int, history_days: int) -> str | None:
    """Create the open incident and publish the alert; the incident id, or None if another run was first."""
    incident = HealthIncident(
        keys.health_pk(pair.tenant, pair.provider), keys.HEALTH_OPEN_SK, provider=pair.provider,
        incident_id=new_ulid(), opened_at=iso(now()), silent_since=iso(since), threshold_hours=threshold,
        active_hours=len(pair.active), events=pair.events,
    )
    try:
        incident.save(condition=HealthIncident.pk.does_not_exist())
    except PutError as error:
        if condition_failed(error):
            return None
        raise
    hours = int((at - since) / HOUR)
    quiet = pair.longest_quiet_hours

    def take_back() -> None:  # so that the next run alerts: an incident without its alert would stay silent
        incident.delete(condition=HealthIncident.incident_id == incident.incident_id)

    _publish_or_take_back(
        pair, take_back, "no_webhooks",
        f"[Message Log] No {pair.provider} webhooks for {pair.tenant} for {hours} hours",
        f"No webhooks from {pair.provider} have reached the message log of tenant {pair.tenant} since "
        f"{_shown(since)} ({hours} hours).\n\n"
        f"In the {history_days} days before, webhooks came in {len(pair.active)} hours ({pair.events} "
        f"events) and the longest quiet spell was {quiet} hours: {threshold} hours without any is "
        f"not usual for this tenant.\n\n"
        f"Until they come back, what {pair.provider} reports about the messages sent is not in the logs. "
        f"Check the webhook URL (/v1/webhooks/{pair.provider}/{pair.tenant}) and the signing key or "
        f"credentials set at {pair.provider}, and the ingestion log (GET /v1/ingestion-log) for refused "
        f"requests such as NOLOG_BAD_SIGNATURE.\n\n"
        f"Incident {incident.incident_id}. A message follows when webhooks arrive again.")
    _log(pair, ALERT_NO_WEBHOOKS, f"no {pair.provider} webhooks since {_shown(since)} ({hours} hours; usual longest "
                                  f"quiet spell {quiet} hours); incident {incident.incident_id}")
    return incident.incident_id


def _remind(pair: Pair, incident: HealthIncident, at: datetime) -> bool:
    """Alert again if the last alert of this open incident is a day old; False if it is not yet, or
    another run reminded first. The run whose conditional update of `alerted_at` succeeds publishes;
    if publishing fails it puts `alerted_at` back, so that the next run retries."""
    last = incident.alerted_at or incident.opened_at
    if at - datetime.fromisoformat(last) < REMIND_EVERY:
        return False
    reminders = int(incident.reminders or 0) + 1
    unchanged = (HealthIncident.incident_id == incident.incident_id) & (
        (HealthIncident.alerted_at == incident.alerted_at) if incident.alerted_at
        else HealthIncident.alerted_at.does_not_exist())
    if not update_if(HealthIncident, (incident.pk, incident.sk),
                     [HealthIncident.alerted_at.set(iso(at)), HealthIncident.reminders.set(reminders)], unchanged):
        return False
    since = datetime.fromisoformat(incident.silent_since)
    hours = int((at - since) / HOUR)

    def take_back() -> None:  # so that the next run reminds
        back = [HealthIncident.alerted_at.set(incident.alerted_at) if incident.alerted_at
                else HealthIncident.alerted_at.remove(), HealthIncident.reminders.set(reminders - 1)]
        update_if(HealthIncident, (incident.pk, incident.sk), back,
                  (HealthIncident.incident_id == incident.incident_id) & (HealthIncident.alerted_at == iso(at)))

    _publish_or_take_back(
        pair, take_back, "no_webhooks",
        f"[Message Log] Still no {pair.provider} webhooks for {pair.tenant} ({hours} hours)",
        f"Webhooks from {pair.provider} have still not reached the message log of tenant {pair.tenant}: "
        f"none since {_shown(since)} ({hours} hours).\n\n"
        f"Until they come back, what {pair.provider} reports about the messages sent is not in the logs. "
        f"Check the webhook URL (/v1/webhooks/{pair.provider}/{pair.tenant}) and the signing key or "
        f"credentials set at {pair.provider}, and the ingestion log (GET /v1/ingestion-log).\n\n"
        f"Incident {incident.incident_id}, reminder {reminders}: this reminder repeats daily until "
        f"webhooks arrive again.")
    _log(pair, ALERT_NO_WEBHOOKS, f"still no {pair.provider} webhooks since {_shown(since)} ({hours} hours); "
                                  f"incident {incident.incident_id}, daily reminder {reminders}")
    return True


def _recover(pair: Pair, incident: HealthIncident, resumed: datetime) -> bool:
    """Close the open incident and tell; False if another run closed it first."""
    try:
        incident.delete(condition=HealthIncident.incident_id == incident.incident_id)
    except DeleteError as error:
        if condition_failed(error):
            return False
        raise
    try:  # kept while its silence is in the history, so that it does not count as a usual quiet spell
        HealthIncident(keys.health_pk(pair.tenant, pair.provider), keys.health_closed_sk(incident.incident_id),
                       **{name: getattr(incident, name) for name in (
                           "provider", "incident_id", "opened_at", "silent_since", "threshold_hours", "active_hours",
                           "events")},
                       closed_at=iso(now()), resumed_hour=iso(resumed),
                       expires_at=now() + timedelta(days=KEEP_DAYS)).save()
    except Exception:  # the incident is closed; only its silence may count as usual for a while
        logger.warning("ingestion health: the closed incident could not be kept", exc_info=True,
                       extra={"tenant_id": pair.tenant, "provider": pair.provider})
    silent_since = datetime.fromisoformat(incident.silent_since)
    _log(pair, ALERT_RECOVERED, f"{pair.provider} webhooks again since {_shown(resumed)}, after none since "
                                f"{_shown(silent_since)}; incident {incident.incident_id} closed")
    _publish(pair, "recovered", f"[Message Log] {pair.provider} webhooks for {pair.tenant} are back",
             f"Webhooks from {pair.provider} reach the message log of tenant {pair.tenant} again, since "
             f"{_shown(resumed)}; none had come since {_shown(silent_since)}.\n\n"
             f"Events that {pair.provider} retried meanwhile are stored; any it gave up on are not.\n\n"
             f"Incident {incident.incident_id} is closed.")
    return True


def _fetch_silence(pair: Pair, incident: HealthIncident, resumed: datetime,
                   time_left: Callable[[], int]) -> dict[str, Any]:
    """The silent window, from the hour webhooks stopped to the end of the hour they came back, fetched from
    the provider's API and ingested (msglog.recovery) when the tenant gave API credentials: queued, and run
    for at most RECOVERY_MS of this run (the other pairs are still checked); one that cannot finish now stays
    queued (`make recover` of the same window, or the operations function's `recover`, resumes it). Never
    fails the health check."""
    start = datetime.fromisoformat(incident.silent_since)
    try:
        job = recovery.queue(pair.tenant, pair.provider, start, resumed + timedelta(hours=1), actor="ingestion-health")
        if job is None:
            return {}
        ends = time.monotonic() * 1000 + RECOVERY_MS
        runs = recovery.run_queued(pair.tenant, pair.provider, lambda: int(min(
            time_left() - RESERVE_MS, ends - time.monotonic() * 1000) + recovery.RESERVE_MS))
        return {"recovery": runs[-1]["status"] if runs else job.status}
    except Exception:  # the incident is closed and told; its window can be recovered by the operator
        logger.warning("ingestion health: the silent window could not be recovered", exc_info=True,
                       extra={"tenant_id": pair.tenant, "provider": pair.provider})
        return {"recovery": "failed"}


def _resume_recoveries(tenant: str, at: datetime, state: Run) -> None:
    """The tenant's recoveries left unfinished (a 429's retry time passed, a failure's back-off over, stopped
    by their time), each resumed from its checkpoint, within this run's share (RESUME_JOBS, RESUME_MS)."""
    left = RESUME_JOBS - len(state.resumed)
    if left <= 0:
        return
    clock_ms = time.monotonic() * 1000
    if state.resume_ends_ms is None:
        state.resume_ends_ms = clock_ms + RESUME_MS
    if clock_ms >= state.resume_ends_ms:
        return
    ends, time_left = state.resume_ends_ms, state.time_left
    try:
        runs = recovery.resume_due(tenant, at, left, lambda: int(min(
            time_left() - RESERVE_MS, ends - time.monotonic() * 1000) + recovery.RESERVE_MS))
    except Exception:  # this tenant's jobs wait for the next run; the check itself is done
        logger.exception("ingestion health: recoveries could not be resumed", extra={"tenant_id": tenant})
        state.errors += 1
        return
    state.resumed += [{"tenant": tenant, **{name: run[name] for name in ("provider", "from", "to", "status", "pages")}}
                      for run in runs]


def _shown(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _publish_or_take_back(pair: Pair, take_back: Callable[[], None], kind: str, subject: str, text: str) -> None:
    """Publish an alert whose record is written already; if publishing fails, take the record back (so that
    the next run tries again) and raise the publishing error."""
    try:
        _publish(pair, kind, subject, text)
    except Exception:
        try:
            take_back()
        except Exception:  # the error below is what matters
            logger.exception("ingestion health: an alert could not be taken back after it failed",
                             extra={"tenant_id": pair.tenant, "provider": pair.provider, "kind": kind})
        raise


def _publish(pair: Pair, kind: str, subject: str, text: str) -> None:
    current = tenants.settings(pair.tenant, fresh=True)  # the address as it is now
    alerts.publish(pair.tenant, pair.provider, kind=kind, subject=subject, text=text, alert_email=current.alert_email)


def _log(pair: Pair, code: str, detail: str) -> None:
    """The tenant's ingestion log shows the alert and the recovery beside the requests."""
    try:
        ingestion_log.record(pair.tenant, pair.provider, None, {code: 1}, detail=detail)
    except Exception:  # the incident and its alert stand; the function's log has the line
        logger.exception("ingestion health: the ingestion-log entry could not be written",
                         extra={"tenant_id": pair.tenant, "provider": pair.provider, "code": code})
