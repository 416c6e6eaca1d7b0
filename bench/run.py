"""`make bench`: every figure of issue 6 in one run, printed as it comes, then bench/RESULTS.md.

Order: cold starts first, while moto idles; then ingest, on a small table; the purge (its Scan
peer reads whatever the table holds: the ingest's items and the purge's own); the page costs in
moto emptied first (its index Queries read the whole table); the pure figures, from what was measured; the
console's first screen last, against make run's own stack.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bench import cold_start, console, figures, ingest, local_aws, page_cost, purge_efficiency
from bench.meter import METER
from bench.report import Report, Row
from bench.stub_aws import StubAws
from local.template import functions


def _say(text: str) -> None:
    print(text, flush=True)


class _Phases:
    """How long each part of the run took (printed, and kept for RESULTS.md)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._name, self._start = "", 0.0

    def next(self, name: str, text: str) -> None:
        self.end()
        self._name, self._start = name, time.perf_counter()
        _say(text)

    def end(self) -> None:
        if self._name:
            self.seconds[self._name] = time.perf_counter() - self._start
            _say(f"  ({self._name}: {self.seconds[self._name]:.0f} s)")
            self._name = ""


def _or_failed(report: Report, figure: int, name: str, measure: Callable[[], None]) -> None:
    """A figure that may fail on a loaded machine: if it does, a MISS row says why, the others still go in."""
    try:
        measure()
    except Exception as failure:  # noqa: BLE001 - the other figures still go into RESULTS.md
        report.add(Row(figure, name, f"the run failed: {str(failure)[:300]}", "measured", False))


def run() -> int:
    started = time.perf_counter()
    report = Report()
    METER.install()
    phases = _Phases()
    phases.next("set-up", "starting moto (server mode) and creating template.yaml's resources in it ...")
    aws = local_aws.start()
    stub = StubAws().start()
    try:
        phases.next("cold starts", f"[1] cold starts: {cold_start.ROUNDS} rounds of fresh processes ...")
        floor, starts = cold_start.run(aws.envs, stub.url)
        figures.cold_starts(report, floor, starts)

        phases.next("ingest", "[2-3] webhook ingest: recording messages, then SendGrid, Mailgun and the naive peer ...")
        ingested = ingest.run(aws)
        figures.ingest(report, ingested)

        phases.next("purge", "[5] purge efficiency ...")
        service, peer, due = purge_efficiency.run(aws, _say)
        figures.purge(report, service, peer, due)

        phases.next("page costs", "[4] page costs, in an emptied moto ...")
        aws.reset()  # moto's index Queries read the whole table: the earlier figures' items would only slow them
        _or_failed(report, 4, "page cost", lambda: figures.pages(report, *page_cost.run(aws, _say)))

        phases.next("heat and cost", "[6] partition heat, [7] cost ...")
        figures.partition_heat(report, ingested.mailgun)
        figures.costs(report, ingested, functions()["WebhooksFunction"].memory, functions()["StatusFunction"].memory)

        phases.next("console", "[8] the console's first screen against make run, in headless Chromium ...")
        _or_failed(report, 8, "console: first screen", lambda: figures.first_screen(report, console.run()))
        phases.end()
    finally:
        stub.stop()
        aws.stop()
    seconds = time.perf_counter() - started
    path = report.write(seconds, phases.seconds)
    _say("")
    _say(report.table())
    _say(f"\nwrote {path.relative_to(path.parent.parent)} in {seconds:.0f} s")
    return 0
