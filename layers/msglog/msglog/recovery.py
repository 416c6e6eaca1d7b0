"""Recovery of a window: every event a provider holds for [from, to], fetched page by page from its API
(msglog.provider_apis) and ingested as its webhooks are (msglog.refresh.ingest_recovered: the same keys,
so the events that did arrive are duplicates and nothing is counted twice).

Run by the operator (`make recover`, the operations function's `recover` command) and, automatically,
when ingestion health sees a tenant's provider come back after a silence (`queue`, then `run_queued`).
Each job is one item (provider and window: the same window asked again is the same job), its checkpoint
saved after each page is stored: a run stopped by its time, a rate limit or a provider failure is
resumed where it stopped by the next run. Paced: at least the provider's PACE_SECONDS between calls
(its documented limits, README "Provider APIs"). Audited: started, and each run's progress.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from msglog import audit, keys, provider_apis, tenants
from msglog.clock import iso, now
from msglog.errors import BadRequest, Conflict, FieldError, NotFound
from msglog.models import RecoveryJob, put_if_absent
from msglog.provider_apis import Budget, BudgetSpent, ProviderApiError, RateLimited
from msglog.providers import ProviderEvent
from msglog.refresh import ingest_recovered

MAX_WINDOW = timedelta(days=30)  # no provider keeps events longer (Mailgun 3-30 days by plan)
RESERVE_MS = 15_000  # a run stops this long before its function's time is up
MAX_CALLS_PER_RUN = 500
# Resumed by ingestion health's schedule: a failure waits FIRST_BACKOFF, doubled with each failure in a row (at
# most MAX_BACKOFF); after MAX_FAILURES in a row it is left to the operator (`make recover` resumes it).
FIRST_BACKOFF, MAX_BACKOFF, MAX_FAILURES = timedelta(minutes=15), timedelta(hours=6), 6
# A job's end: done, or incomplete — finished as far as the provider allows, `detail` says what it left unread
# (SendGrid: a second holding more messages than one query lists). Neither is resumed; again=true re-runs it.
FINISHED = ("done", "incomplete")
STALE_RUNNING = timedelta(minutes=20)  # a "running" job not saved for longer than a function can run: it died


def _job(tenant: str, provider: str, start: datetime, end: datetime, actor: str) -> RecoveryJob:
    """The window's job: created (and audited) the first time it is asked for."""
    if provider_apis.module(provider) is None:
        raise BadRequest("no API to recover from", [FieldError("provider", f"must be one of {', '.join(
            provider_apis.APIS)} (SES has no events API)")])
    if not start < end or end - start > MAX_WINDOW:
        raise BadRequest("the window is not valid", [FieldError("to", f"must be after from, at most "
                                                                      f"{MAX_WINDOW.days} days after it")])
    job = RecoveryJob(keys.recovery_pk(tenant), keys.recovery_sk(provider, iso(start), iso(end)), provider=provider,
                      window_start=iso(start), window_end=iso(end), status="queued", started_by=actor,
                      started_at=iso(now()), updated_at=iso(now()), outcomes={})
    if (earlier := put_if_absent(job)) is not None:
        return earlier
    audit.record(tenant, actor=actor, action="provider.recovery_started", entity=f"provider:{provider}",
                 details={"from": job.window_start, "to": job.window_end})
    return job


def queue(tenant: str, provider: str, start: datetime, end: datetime, actor: str) -> RecoveryJob | None:
    """A job for the window, to run later (ingestion health); None when the tenant gave no API credentials."""
    if provider not in provider_apis.APIS or not any(a.provider == provider for a in tenants.configured_apis(tenant)):
        return None
    return _job(tenant, provider, start, end, actor)


def recover(tenant: str, provider: str, start: datetime, end: datetime, *, actor: str = "operator",
            again: bool = False, time_left: Callable[[], int] | None = None) -> dict[str, Any]:
    """Fetch and ingest the window, from its checkpoint on, while time allows. `again`: a finished window is
    fetched once more from its start (everything a duplicate, unless the provider learnt more since)."""
    if provider in provider_apis.APIS and tenants.api_credentials(tenant, provider) is None:
        raise Conflict(f"no API credentials for {provider}: PUT /v1/providers/{provider} (api)")
    job = _job(tenant, provider, start, end, actor)
    if job.status in FINISHED and not again:
        return {**show(job), "note": "this window was recovered already (again=true fetches it once more)"}
    if job.status in FINISHED:
        job.position, job.pages = None, 0
    return _run(tenant, job, actor, time_left or (lambda: 900_000))


def _run(tenant: str, job: RecoveryJob, actor: str, time_left: Callable[[], int]) -> dict[str, Any]:
    api = provider_apis.module(job.provider)
    credentials = tenants.api_credentials(tenant, job.provider)
    if api is None or credentials is None:
        raise Conflict(f"no API credentials for {job.provider}: PUT /v1/providers/{job.provider} (api)")
    start, end = datetime.fromisoformat(job.window_start), datetime.fromisoformat(job.window_end)
    budget, counts, pages = Budget(MAX_CALLS_PER_RUN, 14 * 60.0), Counter[str](), 0
    job.status, job.detail, job.retry_at, job.runs = "running", None, None, (job.runs or 0) + 1
    last_call = 0.0
    while time_left() > RESERVE_MS:
        time.sleep(max(0.0, api.PACE_SECONDS - (time.monotonic() - last_call)))  # the provider's pace
        last_call = time.monotonic()
        try:
            events, position, *note = api.window(credentials, start, end, budget, job.position)
        except RateLimited as limited:
            job.status, job.detail = "waiting", limited.detail
            job.retry_at = iso(now() + timedelta(seconds=limited.retry_after))
            break
        except ProviderApiError as failure:
            job.failures = int(job.failures or 0) + 1
            job.status, job.detail = "failed", f"{failure.detail}; run it again to resume"
            job.retry_at = iso(now() + min(FIRST_BACKOFF * 2 ** (job.failures - 1), MAX_BACKOFF))
            break
        except BudgetSpent:
            break
        counts.update(ingest_recovered(tenant, job.provider, _within(events, start, end),
                                       detail=f"recovery of {job.window_start} to {job.window_end}"))
        job.position, job.pages, pages, job.failures = position, (job.pages or 0) + 1, pages + 1, 0
        if position is None:  # a provider's own limit may have left part of the window unread: said so
            job.status, job.detail = ("incomplete", note[0]) if note and note[0] else ("done", None)
            break
        _save(job, counts)  # each page's checkpoint once it is stored: a crash re-reads one page at most
        counts = Counter()
    if job.status == "running":  # stopped by its time or calls: queued again (a "running" job is one in progress)
        job.status, job.detail = "queued", "stopped before its time ran out; run it again to go on"
    _save(job, counts)
    audit.record(tenant, actor=actor, action="provider.recovery_run", entity=f"provider:{job.provider}",
                 details={"from": job.window_start, "to": job.window_end, "status": job.status, "pages": pages,
                          **{code: str(n) for code, n in _outcomes(job).items()}})
    return show(job)


def _within(events: list[ProviderEvent], start: datetime, end: datetime) -> list[ProviderEvent]:
    """The window's events. Providers that list by send time (Postmark, Twilio: a look-back) or by last event
    (SendGrid: a look-ahead) also give events of the days around it, whose webhooks came (SendGrid's and
    Postmark's activity events carry ids of their own: stored, they would be second rows). An event with no
    time of its own (Twilio's current status) is kept: its id is its callback's, so it is stored once."""
    return [event for event in events if event.timestamp is None or start <= event.timestamp <= end]


def _outcomes(job: RecoveryJob) -> dict[str, Any]:
    stored = job.outcomes
    return stored.as_dict() if hasattr(stored, "as_dict") else dict(stored or {})


def _save(job: RecoveryJob, counts: Counter[str]) -> None:
    outcomes = _outcomes(job)
    for code, n in counts.items():
        outcomes[code] = int(outcomes.get(code, 0)) + n
    job.outcomes, job.updated_at = outcomes, iso(now())
    job.save()


def show(job: RecoveryJob) -> dict[str, Any]:
    """A job's progress, as the operator and the audit log see it."""
    return {"provider": job.provider, "from": job.window_start, "to": job.window_end, "status": job.status,
            "pages": int(job.pages or 0), "runs": int(job.runs or 0),
            "outcomes": {code: int(n) for code, n in _outcomes(job).items()},
            "detail": job.detail, "retry_at": job.retry_at, "started_by": job.started_by}


def run_queued(tenant: str, provider: str, time_left: Callable[[], int]) -> list[dict[str, Any]]:
    """The tenant's unfinished jobs of this provider whose rate limit has lifted, each run once."""
    done = []
    for job in RecoveryJob.query(keys.recovery_pk(tenant), RecoveryJob.sk.startswith(f"{provider}#")):
        if job.status in FINISHED or (job.retry_at and job.retry_at > iso(now())) or time_left() <= RESERVE_MS:
            continue
        done.append(_run(tenant, job, job.started_by, time_left))
    return done


def _due(job: RecoveryJob, at: str, stale_before: str) -> bool:
    """Whether the schedule should resume the job now: unfinished, its retry time passed, not given up."""
    if job.status in FINISHED or int(job.failures or 0) >= MAX_FAILURES:
        return False
    if job.status == "running":  # a run in progress, unless it died without saving its stop
        return job.updated_at < stale_before
    return not job.retry_at or job.retry_at <= at


def resume_due(tenant: str, at: datetime, limit: int, time_left: Callable[[], int]) -> list[dict[str, Any]]:
    """Ingestion health's schedule: run the tenant's unfinished jobs whose retry time has passed (at most
    `limit`, oldest window first, while `time_left` allows), each from its checkpoint."""
    resumed: list[dict[str, Any]] = []
    stale_before = iso(now() - STALE_RUNNING)
    due = [job for job in RecoveryJob.query(keys.recovery_pk(tenant), consistent_read=True)
           if _due(job, iso(at), stale_before)]
    for job in sorted(due, key=lambda job: job.window_start)[:limit]:
        if time_left() <= RESERVE_MS:
            break
        if tenants.api_credentials(tenant, job.provider) is None:  # taken away since: nothing to call with
            continue
        resumed.append(_run(tenant, job, "ingestion-health", time_left))
    return resumed


def status(tenant: str, provider: str, start: datetime, end: datetime) -> dict[str, Any]:
    try:
        return show(RecoveryJob.get(keys.recovery_pk(tenant), keys.recovery_sk(provider, iso(start), iso(end))))
    except RecoveryJob.DoesNotExist:
        raise NotFound("no recovery of this window") from None
