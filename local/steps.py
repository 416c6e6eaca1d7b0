"""`make test`'s steps, timed: `python -m local.steps NAME=COMMAND ...` runs each shell command in
order, stops at the first that fails, and ends with how long each step took (wall time), so a
slow run says where its time went. Exits with the failing step's status (0 when all passed)."""

from __future__ import annotations

import subprocess
import sys
import time


def run(steps: list[tuple[str, str]]) -> int:
    took: list[tuple[str, float, int]] = []
    for name, command in steps:
        start = time.monotonic()
        status = subprocess.run(command, shell=True, executable="/bin/bash").returncode  # noqa: S602 - the Makefile's
        took.append((name, time.monotonic() - start, status))
        if status:
            break
    print(summary(took, [name for name, _ in steps[len(took):]]), flush=True)
    return took[-1][2] if took else 0


def summary(took: list[tuple[str, float, int]], not_run: list[str]) -> str:
    width = max(len(name) for name in ["total", *(name for name, _, _ in took), *not_run])
    lines = ["", "where the time went:"]
    lines += [f"  {name:<{width}}  {_minutes(seconds)}{'  FAILED' if status else ''}" for name, seconds, status in took]
    lines += [f"  {name:<{width}}  not run" for name in not_run]
    lines.append(f"  {'total':<{width}}  {_minutes(sum(seconds for _, seconds, _ in took))}")
    return "\n".join(lines)


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def main(arguments: list[str]) -> int:
    steps = []
    for argument in arguments:
        name, equals, command = argument.partition("=")
        if not (name and equals and command):
            print(f"usage: python -m local.steps NAME=COMMAND ... ({argument!r} is not one)", file=sys.stderr)
            return 2
        steps.append((name, command))
    return run(steps)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
