"""Figure 4: what a 50-row page of each list view costs, as the tenant's data grows.

The tenant holds N rows, a fifth in each list: sent messages (each with its copies for the other sort
orders), one address's deliveries (the recipient log), provider events, ingestion-log records,
suppressions (bench.rows). The sent log is read in two orders: by date, and by subject (gsi7). Each view's
first page (limit 50, newest first) is asked through its real handler; every Query it runs is
counted with the size of what it returned, and read units follow from those sizes (moto's
consumed capacity is a constant, never used). The same pages are read again after the tenant has
grown to the larger N (sizes(): 10,000 and 100,000 unless BENCH_PAGE_ROWS says otherwise).
docs/data-model.md promises one Query per shard a page touches (feed shards: 4; the recipient
log: 1), plus one per sent-log row for its message's counts (18f), and a cost that does not grow with the data.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from bench import rows
from bench.local_aws import LocalAws
from bench.meter import METER
from bench.work import Work, measure

TENANT = "bench-pages"
PAGE = 50
# Issue 6's ask. moto loads ~1,200 of these rows a second here and its Query sorts the whole table (~4 s at
# 100,000): about 2.5 minutes of the run. `BENCH_PAGE_ROWS=10000,30000 make bench` is quicker.
DEFAULT_ROWS = (10_000, 100_000)
FEED_SHARDS = 4  # the tenant's feed_shards: the default (msglog.keys.DEFAULT_FEED_SHARDS)
FLAT = 1.05  # "flat": the larger data set's page costs at most 5% more read units
# view -> (route, Queries per page that docs/data-model.md documents, the items of one row it lists, or None: it
# lists another view's rows)
VIEWS: dict[str, tuple[str, int, Callable[..., list[dict[str, Any]]] | None]] = {
    "sent log": ("/v1/messages", FEED_SHARDS, lambda at, n: rows.message_with_copies(TENANT, at, FEED_SHARDS)),
    "sent log by subject": ("/v1/messages?sort=subject", FEED_SHARDS, None),  # gsi7: the copies (4b)
    "recipient log": (f"/v1/recipients/{quote(rows.HEAVY_ADDRESS)}/messages", 1,
                      lambda at, n: rows.delivery(TENANT, rows.HEAVY_ADDRESS, at, n)),
    "event log": ("/v1/events", FEED_SHARDS, lambda at, n: [rows.event(TENANT, at, n, FEED_SHARDS)]),
    "ingestion log": ("/v1/ingestion-log", FEED_SHARDS, lambda at, n: [rows.ingestion(TENANT, at, n, FEED_SHARDS)]),
    "suppressions": ("/v1/suppressions", FEED_SHARDS, lambda at, n: [rows.suppression(TENANT, at, n, FEED_SHARDS)]),
}
COUNTED_ROWS = {"sent log", "sent log by subject"}  # each row's message counts: one Query of its partition (18f)


@dataclass
class PageCost:
    view: str
    rows_in_tenant: int
    documented_queries: int
    shown: int
    work: Work

    @property
    def queries(self) -> int:
        return self.work.operations["Query"]

    @property
    def other_requests(self) -> int:
        return self.work.requests - self.queries

    @property
    def items_read(self) -> int:
        return sum(q["items"] for q in self.work.queries)

    @property
    def query_read_units(self) -> float:
        return sum(q["read_units"] for q in self.work.queries)

    @property
    def read_units(self) -> float:
        """The page's own reads: its Queries and any BatchGetItem of what they found. Not a GetItem of the
        tenant's settings, which a container makes once a minute, not per page."""
        return self.work.reads_by_operation["Query"] + self.work.reads_by_operation["BatchGetItem"]


def _token() -> str:
    from local.apigw import mint_token

    return mint_token({"sub": "bench", "name": "Bench, Runner", "tenant_id": TENANT, "org_units": ["*"],
                       "rights": ["logs:sent", "logs:recipient:any-sender", "people:all", "logs:provider",
                                  "logs:ingestion", "suppressions:read"]})


def load(aws: LocalAws, start: int, stop: int, seed: int = 4) -> None:
    """Rows number `start` to `stop` of the tenant, spread evenly over the lists, over the last 180 days."""
    rng = random.Random(seed + start)
    now = datetime.now(UTC)
    builders = [build for _, _, build in VIEWS.values() if build]
    aws.write_items(item for n in range(start, stop)
                    for item in builders[n % len(builders)](now - timedelta(seconds=rng.uniform(60, 180 * 86400)), n))


def _page(aws: LocalAws, token: str, route: str) -> tuple[int, Work]:
    with METER.window() as window:
        status, _, body = aws.gateway.handle("GET", f"{route}{'&' if '?' in route else '?'}limit={PAGE}",
                                             {"host": "api.bench.test", "authorization": f"Bearer {token}"}, b"")
    if status != 200:
        raise RuntimeError(f"GET {route} answered {status}: {body[:300]!r}")
    return len(json.loads(body)["items"]), measure(window, aws.read_items)


def measure_pages(aws: LocalAws, rows_in_tenant: int) -> list[PageCost]:
    token = _token()
    out = []
    for view, (route, documented, _) in VIEWS.items():
        shown, work = _page(aws, token, route)
        out.append(PageCost(view, rows_in_tenant, documented + (shown if view in COUNTED_ROWS else 0), shown, work))
    return out


def warm(aws: LocalAws) -> None:
    """Each function once (imported, settings and cursor key cached, as in a busy container); not counted."""
    token = _token()
    _page(aws, token, VIEWS["recipient log"][0])  # LogsFunction: one Query, and a cursor signed
    aws.gateway.handle("GET", f"/v1/suppressions/{quote(rows.HEAVY_ADDRESS)}",  # SuppressionsFunction: a GetItem
                       {"host": "api.bench.test", "authorization": f"Bearer {token}"}, b"")


@dataclass
class Phase:
    rows: int
    load_seconds: float  # loading the rows added for this size
    measure_seconds: float  # the five pages

    @property
    def seconds_per_query(self) -> float:
        return self.measure_seconds / sum(documented for _, documented, _ in VIEWS.values())


def sizes() -> tuple[int, ...]:
    """BENCH_PAGE_ROWS (e.g. "10000,100000"), else DEFAULT_ROWS."""
    given = os.environ.get("BENCH_PAGE_ROWS")
    return tuple(sorted(int(n) for n in given.split(","))) if given else DEFAULT_ROWS


def main() -> int:
    """`python -m bench pages`: figure 4 alone, printed (RESULTS.md is left as the last full run wrote it)."""
    from bench import local_aws

    METER.install()
    aws = local_aws.start()
    try:
        costs, phases = run(aws, lambda text: print(text, flush=True))
    finally:
        aws.stop()
    for c in costs:
        print(f"{c.view:22} {c.rows_in_tenant:>8,} rows: {c.shown} shown, {c.queries} Queries "
              f"(documented {c.documented_queries}), {c.items_read:,} items read, {c.read_units:g} RCU")
    for phase in phases:
        print(f"{phase.rows:,} rows: loaded in {phase.load_seconds:.0f} s, pages read in {phase.measure_seconds:.1f} s")
    return 0


def run(aws: LocalAws, progress: Callable[[str], None]) -> tuple[list[PageCost], list[Phase]]:
    costs, phases, loaded = [], [], 0
    for size in sizes():
        progress(f"  loading the page-cost tenant to {size:,} rows ...")
        started = time.perf_counter()
        load(aws, loaded, size)
        loaded, loaded_at = size, time.perf_counter()
        warm(aws)  # every time: loading outlasts the 60 s settings cache
        measured_at = time.perf_counter()
        costs += measure_pages(aws, size)
        phases.append(Phase(size, loaded_at - started, time.perf_counter() - measured_at))
    return costs, phases
