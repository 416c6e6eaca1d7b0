"""`python -m bench` answers --help (and a mistyped option) with its usage, without starting a run
that takes minutes and replaces bench/RESULTS.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "RESULTS.md"


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_help_prints_the_usage_and_leaves_the_results_alone():
    before = RESULTS.read_bytes()
    done = _bench("--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m bench") and "RESULTS.md" in done.stdout
    assert RESULTS.read_bytes() == before


def test_an_unknown_option_is_refused_before_any_run():
    before = RESULTS.read_bytes()
    done = _bench("--rounds", "3")
    assert done.returncode == 2 and "unrecognized arguments: --rounds 3" in done.stderr
    assert RESULTS.read_bytes() == before
