"""Figure 6: the hottest partition key under a busy second, through the service's key builders.

10,000 webhook events in one second over 1,000 tenants whose traffic follows Zipf's law
(s = 1.1: the busiest tenant sends ≈ 1,800/s). Each event is one single-event webhook request
(Mailgun's shape: the worst case, every event its own request) and writes what the measured
path writes (figure 3): the event (table, gsi1 event feed, gsi2 timeline),
its delivery's status item (the status writer's, beside the delivery: the table only) and the request's
ingestion-log record (since issue 21 also its replay guard). Every copy's partition key is built
by msglog.keys, and its write units
come from the item sizes measured in figure 3. Each tenant's events are all for one message —
a district-wide alert, the case the message-group shards exist for. A partition key takes at
most 1,000 write units per second (DynamoDB's per-partition limit).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from msglog import keys

PARTITION_LIMIT = 1000  # WCU/s a single partition key takes
# write units of one write of each item the path writes (figure 3 measures their sizes)
DEFAULT_UNITS = {"event": 1, "status": 1, "ingestion": 1}


def zipf_rates(total: float, tenants: int, s: float) -> list[float]:
    """Events per second of each tenant, busiest first, summing to `total`."""
    weights = [1 / rank**s for rank in range(1, tenants + 1)]
    scale = total / sum(weights)
    return [w * scale for w in weights]


@dataclass(frozen=True)
class Heat:
    busiest_tenant_rate: int  # events in the simulated second
    hottest: list[tuple[str, str, float]]  # (index, partition key, WCU/s), hottest first
    total_units: float

    @property
    def hottest_units(self) -> float:
        return self.hottest[0][2]


def _writes(tenant: str, message: str, rkey: str, event_id: str, record_id: str,
            shards: int) -> list[tuple[str, str, str]]:
    """(index, partition key, item) of every copy one single-event request writes."""
    recipient, group = keys.recipient_pk(tenant, rkey), keys.message_group_pk(tenant, message, rkey)
    return [
        ("table", recipient, "event"),
        ("gsi1", keys.event_feed_pk(tenant, keys.shard_of(event_id, shards)), "event"),
        ("gsi2", group, "event"),
        # the status writer's status item (the webhook no longer updates the delivery: issue 21); the message's
        # counts items take one write per writer batch and group, not per event (docs/decisions.md, issue 18)
        ("table", recipient, "status"),
        ("table", keys.ingestion_pk(tenant, keys.shard_of(record_id, shards)), "ingestion"),
    ]


def simulate(events: int = 10_000, tenants: int = 1_000, s: float = 1.1, units: dict[str, int] | None = None,
             shards: int = keys.DEFAULT_FEED_SHARDS, seed: int = 6, top: int = 5) -> Heat:
    """One second of `events` events; the write units each partition key (table or index) takes."""
    units = {**DEFAULT_UNITS, **(units or {})}
    rng = random.Random(seed)
    weights = zipf_rates(1.0, tenants, s)
    per_tenant = Counter(rng.choices(range(tenants), weights=weights, k=events))
    load: Counter = Counter()
    for tenant_rank, count in per_tenant.items():
        tenant = f"t{tenant_rank:04d}"
        message = f"01ALERT{tenant_rank:019d}"  # one message: the district-wide alert
        audience = max(1000, 20 * count)
        for _ in range(count):
            n = rng.randrange(audience)
            # three draws as before the replay token went (issue 21), so the figure's random walk stays the same
            event_id, _, record_id = [f"{rng.getrandbits(64):016x}" for _ in range(3)]
            for index, key, item in _writes(tenant, message, f"guardian.{n}@example.com", event_id, record_id, shards):
                load[(index, key)] += units[item]
    hottest = [(index, key, float(wcu)) for (index, key), wcu in load.most_common(top)]
    return Heat(per_tenant.most_common(1)[0][1], hottest, float(sum(load.values())))
