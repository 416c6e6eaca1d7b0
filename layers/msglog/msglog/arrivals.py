"""Webhook arrivals per tenant, provider and hour: the signal of the ingestion-health check
(msglog.ingestion_health), counted on the webhook path — so this module stays light (no pydantic).

Each verified request (and each one refused for its signature: `refused`) counts in an hourly item
(`Arrivals`: pk `T#t#HEALTH#<provider>`, sk `H#<hour>`, TTL 15 days) by one UpdateItem ADD, coalesced
per container: a pair's first request in an hour writes at once (every hour with traffic has its
counter); later ones join the next write, at most one a minute (FLUSH_SECONDS). A busy pair then
costs a write per container a minute instead of one per request, and its counter stays far below a
key's 1,000 WCU/s. What a container still holds when Lambda retires it is lost: the check reads which
hours had traffic, and the counts only to judge whether there was enough of it. Best effort: a failed
write is logged and counted (`HealthCountFailed`) and never fails the webhook.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from aws_lambda_powertools import Logger

from msglog import keys
from msglog.clock import now
from msglog.models import Arrivals
from msglog.snapstart import after_restore

logger = Logger(child=True)
FLUSH_SECONDS = 60  # a container writes a pair's counter at most this often (and at each new hour)
KEEP_DAYS = 15  # counters (and closed incidents) live this long: the longest history the check may read
_TYPED = Arrivals.type.set(Arrivals)  # the first ADD of an hour creates its counter: give it its item type
_unwritten: dict[tuple[str, str, str], list[int]] = {}  # (tenant, provider, hour) -> [requests, events, refused]
# (tenant, provider, verified or refused) -> (hour, monotonic) of its last write
_written: dict[tuple[str, str, bool], tuple[str, float]] = {}


def hour_of(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H")


def hour_start(hour: str) -> datetime:
    return datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)


def arrived(tenant: str, provider: str, events: int) -> None:
    """Count a verified webhook request carrying `events` events (malformed ones included). Never raises."""
    if events <= 0:  # e.g. an SNS subscription confirmation: not a sign of mail flowing
        return
    _count(tenant, provider, (1, events, 0))


def refused(tenant: str, provider: str) -> None:
    """Count a request of a configured tenant and provider refused for its signature or credentials: a
    tenant whose key is wrong from the start has no verified traffic to fall silent, only these. Never raises."""
    _count(tenant, provider, (0, 0, 1))


def _count(tenant: str, provider: str, more: tuple[int, int, int]) -> None:
    hour = hour_of(now())
    counts = _unwritten.setdefault((tenant, provider, hour), [0, 0, 0])
    for k, n in enumerate(more):
        counts[k] += n
    kind = (tenant, provider, more[2] == 0)  # verified and refused each write at once in a new hour
    last = _written.get(kind)
    if last and last[0] == hour and time.monotonic() - last[1] < FLUSH_SECONDS:
        return  # this hour has its counter already; these counts go with the next write
    _written[kind] = (hour, time.monotonic())  # after a failure too: no retry on every request
    try:
        for key in [k for k in _unwritten if k[:2] == (tenant, provider)]:
            add(tenant, provider, key[2], *_unwritten[key])
            del _unwritten[key]
    except Exception:  # the webhook is stored or parked already: its answer does not depend on this
        logger.warning("the ingestion-health counter could not be written", exc_info=True)
        from msglog.telemetry import metrics

        metrics.add_metric(name="HealthCountFailed", unit="Count", value=1)


def add(tenant: str, provider: str, hour: str, requests: int, events: int, refused: int = 0) -> None:
    """Add to a pair's counter of `hour` (one UpdateItem, which creates the counter)."""
    Arrivals(keys.health_pk(tenant, provider), keys.health_hour_sk(hour)).update(actions=[
        _TYPED, Arrivals.hour.set(hour), Arrivals.requests.add(requests), Arrivals.events.add(events),
        *([Arrivals.refused.add(refused)] if refused else []),
        Arrivals.expires_at.set(hour_start(hour) + timedelta(days=KEEP_DAYS)),
    ])


def reset() -> None:
    """What a new container starts without (tests start each function cold)."""
    _unwritten.clear()
    _written.clear()


@after_restore
def _forget_written() -> None:
    # Monotonic times of the snapshotted process: a restored copy writes its first arrival again.
    _written.clear()
