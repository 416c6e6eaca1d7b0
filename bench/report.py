"""The figures as rows (measured, target, PASS/MISS), printed as they come and written to RESULTS.md."""

from __future__ import annotations

import os
import platform
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


@dataclass(frozen=True)
class Row:
    figure: int
    name: str
    measured: str
    target: str
    passed: bool | None  # None: shown for reference, no target of its own

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "MISS", None: "—"}[self.passed]


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    sections: list[tuple[int, str]] = field(default_factory=list)  # (figure, markdown)
    causes: list[str] = field(default_factory=list)  # where each miss comes from, from the measurements
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    machine: str = field(default_factory=lambda: machine())  # at the start: the load average before the run

    def add(self, row: Row) -> None:
        self.rows.append(row)
        print(f"  [{row.figure}] {row.name}: {row.measured}  (target {row.target})  {row.verdict}", flush=True)

    def section(self, figure: int, markdown: str) -> None:
        self.sections.append((figure, markdown))

    def table(self) -> str:
        lines = ["| # | figure | measured | target | verdict |", "|---|---|---|---|---|"]
        lines += [f"| {r.figure} | {r.name} | {r.measured} | {r.target} | **{r.verdict}** |"
                  for r in sorted(self.rows, key=lambda r: r.figure)]
        return "\n".join(lines)

    def changes(self, previous: str) -> str:
        """A table of the figures whose measurement or verdict differs from `previous` (the RESULTS.md this
        run replaces), the new ones and those no longer measured, by figure name."""
        before = {RENAMED.get(name, name): old for name, old in previous_rows(previous).items()}
        lines = ["| # | figure | last RESULTS.md | now |", "|---|---|---|---|"]
        for row in sorted(self.rows, key=lambda r: r.figure):
            old = before.pop(row.name, None)
            now = f"{row.measured} (**{row.verdict}**)"
            if old is None:
                lines.append(f"| {row.figure} | {row.name} | new | {now} |")
            elif old != (row.measured, row.verdict):
                lines.append(f"| {row.figure} | {row.name} | {old[0]} (**{old[1]}**) | {now} |")
        lines += [f"| — | {name} | {old[0]} (**{old[1]}**) | no longer measured |" for name, old in before.items()]
        return "\n".join(lines) if len(lines) > 2 else "No figure changed."

    def write(self, seconds: float, phases: dict[str, float]) -> Path:
        passed = sum(1 for r in self.rows if r.passed)
        missed = sum(1 for r in self.rows if r.passed is False)
        previous = RESULTS.read_text() if RESULTS.exists() else ""
        text = "\n\n".join([
            "# Benchmark results (`make bench`)",
            (f"Run on {self.started:%Y-%m-%d %H:%M} UTC, {self.machine}; the run took {seconds:.0f} s "
            f"({', '.join(f'{name} {s:.0f} s' for name, s in phases.items())}). "
            "Written by `python -m bench` — re-run `make bench` to refresh it, never edit it by hand. "
            "Targets are issue 6's, as issue 21 revised them; a MISS is reported as measured."),
            f"**{passed} PASS, {missed} MISS.**",
            "## What changed since the last RESULTS.md",
            (f"Against the run of {_run_date(previous)}: each figure whose measurement or verdict is not the same "
             "(the machine's own spread included: see each figure's round-by-round numbers).")
            if previous else "No earlier RESULTS.md.",
            *([self.changes(previous)] if previous else []),
            "## Figures",
            self.table(),
            *(["## Where the misses come from", "\n".join(f"- {c}" for c in self.causes)] if self.causes else []),
            *(text for _, text in sorted(self.sections, key=lambda s: s[0])),
        ]) + "\n"
        RESULTS.write_text(text)
        return RESULTS


# figure names as earlier runs wrote them -> as they are now
RENAMED = {
    "webhook ingest: SendGrid 1,000-event POST vs naive peer":
        "webhook ingest: SendGrid 1,000-event POST vs naive peer, moto's own pace",
    "DynamoDB requests per event: Mailgun (single-event)":
        "DynamoDB requests per event, status writer included: Mailgun (single-event)",
    "DynamoDB requests per event: SendGrid (batched)":
        "DynamoDB requests per event, status writer included: SendGrid (batched)",
    "webhook ingest: 1,000 single Mailgun POSTs (reference)": "webhook ingest: 300 single Mailgun POSTs (reference)",
    "webhook ingest: 500 single Mailgun POSTs (reference)": "webhook ingest: 300 single Mailgun POSTs (reference)",
}


def previous_rows(text: str) -> dict[str, tuple[str, str]]:
    """{figure name: (measured, verdict)} of a RESULTS.md's figures table."""
    rows: dict[str, tuple[str, str]] = {}
    table = text.split("## Figures", 1)[-1].split("\n## ", 1)[0] if "## Figures" in text else ""
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if len(cells) == 5 and cells[0].isdigit():
            rows[cells[1]] = (cells[2], cells[4].strip("*"))
    return rows


def _run_date(text: str) -> str:
    found = re.search(r"Run on ([0-9-]+ [0-9:]+ UTC)", text)
    return found.group(1) if found else "an earlier date"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> str:
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        return f"{kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        return "RAM unknown"


def machine() -> str:
    load = f", load average {os.getloadavg()[0]:.2f} at the start" if hasattr(os, "getloadavg") else ""
    return (f"{_cpu()} ({os.cpu_count()} cores, {platform.machine()}), {_memory_gb()}, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, moto {version('moto')} (server mode), "
            f"botocore {version('botocore')}, pynamodb {version('pynamodb')}{load}")
