"""`make test`'s timed steps (local/steps.py): each step runs in order, and the log ends with the
wall time of each, also when one fails."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _steps(*steps: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "local.steps", *steps], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def test_the_log_ends_with_each_steps_wall_time():
    done = _steps("deploy-check=echo checked", "pytest=echo tested")
    assert done.returncode == 0, done.stderr
    assert done.stdout.index("checked") < done.stdout.index("tested") < done.stdout.index("where the time went")
    assert re.search(r"where the time went:\n  deploy-check  \d+:\d\d\n  pytest        \d+:\d\d\n"
                     r"  total         \d+:\d\d\n$", done.stdout), done.stdout


def test_a_failing_step_stops_the_run_with_its_status_and_still_says_where_the_time_went():
    done = _steps("deploy-check=echo checked", "fuzz=exit 3", "pytest=echo tested")
    assert done.returncode == 3
    assert "tested" not in done.stdout
    assert re.search(r"  fuzz          \d+:\d\d  FAILED\n  pytest        not run\n", done.stdout), done.stdout
