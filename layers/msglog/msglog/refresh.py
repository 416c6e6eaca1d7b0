"""POST /v1/messages/{id}/refresh: ask the message's provider what it knows of each recipient, and
ingest that as its webhooks would have been ingested (msglog.ingest: the same normalisation — each
provider's API is read by its webhook module's mapper, msglog.provider_apis — the same keys and
precedence, so a refresh, a webhook and a second refresh never count anything twice).

Bounded: at most MAX_RECIPIENTS of the recipients the caller sees, MAX_CALLS calls to the provider and
MAX_SECONDS of them (within API Gateway's 30 s). A provider that rate-limits or fails half way leaves
what was fetched stored, and the answer says what is left and when to try again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from msglog import ingest, ingestion_log, provider_apis, suppressions, tenants, views
from msglog.addresses import recipient_key
from msglog.auth import Caller
from msglog.clock import iso, now
from msglog.errors import Conflict, Unavailable
from msglog.models import Delivery
from msglog.precedence import precedence, rank
from msglog.provider_apis import Budget, BudgetSpent, Interrupted, NotAllowed, ProviderApiError, RateLimited
from msglog.providers import ProviderEvent

LOG_RECOVERED = "LOG_RECOVERED"  # an event a refresh or a recovery fetched from the provider, stored now
MAX_RECIPIENTS = 500
MAX_CALLS = 25
MAX_SECONDS = 15.0  # + one call's timeouts (11 s) stays within the function's 29 s


def ingest_recovered(tenant: str, provider: str, events: list[ProviderEvent], detail: str,
                     *, statuses_now: bool = False) -> dict[str, int]:
    """Store events fetched from a provider as a webhook's are stored; the ingestion log gets one row for
    those new here (LOG_RECOVERED, or NOLOG_UNMATCHED…) and none when all were there already."""
    events = [event for event in events if event.recipient]
    outcomes = ingest.store(tenant, events, statuses_now=statuses_now)
    suppressions.add_from_events(tenant, events)
    rows = [replace(o, code=LOG_RECOVERED) if o.code == ingest.LOG_OK else o for o in outcomes]
    counts = Counter(o.code for o in rows)
    news = [o for o in rows if o.code != ingest.NOLOG_DUPLICATE]
    if news:
        ingestion_log.record(tenant, provider, None, Counter(o.code for o in news), news, detail=detail)
    return dict(counts)


def refresh(caller: Caller, message_id: str) -> dict[str, Any]:
    message, deliveries = views.shown_recipients(caller, message_id, MAX_RECIPIENTS)
    provider = message.provider or ""
    api = provider_apis.module(provider)
    if api is None:
        raise Conflict("the message names no provider to ask" if not provider else
                       f"{provider} has no API to ask for events (SES's come only through its SNS notifications)")
    credentials = tenants.api_credentials(caller.tenant, provider)
    if credentials is None:
        raise Conflict(f"no API credentials for {provider}: give them with PUT /v1/providers/{provider} (api)")
    by_provider_id: dict[str, list[Delivery]] = {}
    for delivery in deliveries:
        if delivery.provider_message_id:
            by_provider_id.setdefault(delivery.provider_message_id, []).append(delivery)
    budget = Budget(MAX_CALLS, MAX_SECONDS)
    found, asked, stopped = _ask(api, credentials, by_provider_id, budget, message.message_id)
    if stopped is not None and not asked and not found:
        _refuse(provider, stopped)
    # The person who pressed "refresh" reads the detail next: its statuses are written before the answer.
    outcomes = ingest_recovered(caller.tenant, provider, found, detail=f"refresh of message {message.message_id}",
                                statuses_now=True)
    return _answer(message.message_id, provider, deliveries, asked, found, outcomes, budget, stopped)


def _ask(api: Any, credentials: dict[str, Any], by_provider_id: dict[str, list[Delivery]], budget: Budget,
         message_id: str) -> tuple[list[ProviderEvent], list[Delivery], ProviderApiError | BudgetSpent | None]:
    """Each provider message id's events, while the provider and the budget allow: the events fetched (an
    interrupted call's too), the recipients asked in full, and what stopped it (None: nothing)."""
    found: list[ProviderEvent] = []
    asked: list[Delivery] = []
    knowns = {provider_message_id: _known(group) for provider_message_id, group in by_provider_id.items()}
    for provider_message_id in sorted(knowns, key=lambda pmid: _least_known(knowns[pmid])):
        group = by_provider_id[provider_message_id]
        try:
            events = api.message_events(credentials, provider_message_id, budget, known=knowns[provider_message_id])
        except Interrupted as cut:  # part of this send read: kept, its recipients read in full counted asked
            found += _theirs(cut.events, group, message_id)
            asked += [delivery for delivery in group if delivery.recipient_key in cut.reached]
            return found, asked, cut.stop
        except (ProviderApiError, BudgetSpent) as stop:
            return found, asked, stop
        found += _theirs(events, group, message_id)
        asked += group
    return found, asked, None


def _least_known(known: dict[str, tuple[int, str | None]]) -> tuple[int, str]:
    """The order a refresh asks in: the send whose least advanced recipient is least advanced first, then the
    one known for the shortest time — so a refresh stopped by its calls or a rate limit is followed by one that
    asks the recipients it did not reach (their statuses lag) before those it did."""
    return (min((status_rank for status_rank, _ in known.values()), default=0),
            min((until or "" for _, until in known.values()), default=""))


def _refuse(provider: str, stop: ProviderApiError | BudgetSpent) -> None:
    """Nothing done yet: refused credentials are a 409, a provider failure a 503 (a 429 or the budget: 200)."""
    if isinstance(stop, NotAllowed):
        raise Conflict(f"{stop.detail}: give new ones with PUT /v1/providers/{provider} (api)")
    if isinstance(stop, ProviderApiError) and not isinstance(stop, RateLimited):
        raise Unavailable(f"{provider}: {stop.detail}")


def _known(group: list[Delivery]) -> dict[str, tuple[int, str | None]]:
    """What we know of each recipient: its status's rank, and the provider time up to which we hold its events
    (None while no provider event set its status: the recording's own time says nothing of the provider)."""
    known: dict[str, tuple[int, str | None]] = {}
    for delivery in group:
        rank_part, _, rest = (delivery.status_precedence or "").partition("|")
        status_at, _, event_id = rest.partition("|")
        until = None
        if event_id:
            later = delivery.last_event_at if (delivery.last_event_at or "") > delivery.created_at else ""
            until = max(status_at, later)
        known[delivery.recipient_key] = (int(rank_part) if rank_part.isdigit() else 0, until)
    return known


def _theirs(events: list[ProviderEvent], group: list[Delivery], message_id: str) -> list[ProviderEvent]:
    """The events of the asked recipients of this message (a provider message id may span recipients the
    caller does not see, or another message's)."""
    wanted = {delivery.recipient_key for delivery in group}
    kept = []
    for event in events:
        try:
            key = recipient_key(event.recipient, event.channel)
        except ValueError:
            continue
        if key in wanted and event.message_id in (None, message_id):
            kept.append(replace(event, message_id=message_id))
    return kept


def _status_after(delivery: Delivery, events: list[ProviderEvent]) -> str | None:
    """The status the delivery has once these events are in: the best of them if it takes precedence."""
    best, best_precedence = delivery.status, delivery.status_precedence or ""
    for event in events:
        if rank(event.event):
            candidate = precedence(event.event, iso(event.timestamp or now()), event.event_id)
            if candidate > best_precedence:
                best, best_precedence = event.event, candidate
    return best


def _answer(message_id: str, provider: str, deliveries: list[Delivery], asked: list[Delivery],
            found: list[ProviderEvent], outcomes: dict[str, int], budget: Budget,
            stopped: ProviderApiError | BudgetSpent | None) -> dict[str, Any]:
    by_recipient: dict[str, list[ProviderEvent]] = {}
    for event in found:
        by_recipient.setdefault(recipient_key(event.recipient, event.channel), []).append(event)
    recipients = []
    for delivery in asked:
        after = _status_after(delivery, by_recipient.get(delivery.recipient_key, []))
        recipients.append({"address": delivery.address, "provider_message_id": delivery.provider_message_id,
                           "status_before": delivery.status, "status_after": after,
                           "changed": after != delivery.status})
    asked_keys = {d.recipient_key for d in asked}
    not_asked = [{"address": d.address, "why": "no provider message id recorded" if not d.provider_message_id
                  else "not reached: " + _why(stopped)} for d in deliveries if d.recipient_key not in asked_keys]
    complete = stopped is None
    answer: dict[str, Any] = {
        "message_id": message_id, "provider": provider, "complete": complete, "calls": budget.used,
        "recipients": recipients, "not_asked": not_asked, "outcomes": outcomes,
        "changed": sum(1 for r in recipients if r["changed"]),
    }
    if stopped is not None:
        answer["stopped"] = _stopped_by(stopped)
        answer["detail"] = (_why(stopped) + "; what was fetched is stored: refresh again to fetch the rest "
                            "(it asks first for the recipients not yet up to date; nothing is counted twice)")
        if isinstance(stopped, RateLimited):
            answer["retry_after"] = stopped.retry_after
    return answer


def _stopped_by(stopped: ProviderApiError | BudgetSpent) -> str:
    """Why a refresh stopped part way, as a word a front end can show: rate_limited, budget, provider_failed,
    credentials_refused."""
    if isinstance(stopped, RateLimited):
        return "rate_limited"
    if isinstance(stopped, NotAllowed):
        return "credentials_refused"
    return "provider_failed" if isinstance(stopped, ProviderApiError) else "budget"


def _why(stopped: ProviderApiError | BudgetSpent | None) -> str:
    if isinstance(stopped, ProviderApiError):
        return stopped.detail
    return "this refresh's calls or time were used up" if stopped else "—"
