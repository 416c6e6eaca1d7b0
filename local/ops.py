"""Operator commands against the local stack: `python -m local.ops <command> name=value ...`
builds OperationsFunction's event (lists comma-separated) and invokes it like `make invoke`.
In AWS the same event goes to `sam remote invoke OperationsFunction` (README, Operations)."""

from __future__ import annotations

import json
import sys

from local.invoke import main

LISTS = {"customers"}
NUMBERS = {"retention_months", "log_retention_days", "feed_shards"}


def event(command: str, pairs: list[str]) -> dict[str, object]:
    out: dict[str, object] = {"command": command}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if not value:
            continue  # an unset make variable
        out[name] = value.split(",") if name in LISTS else int(value) if name in NUMBERS else \
            value == "true" if name in ("privacy_mode", "again") else value
    return out


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print("usage: python -m local.ops <command> name=value ...", file=sys.stderr)
        sys.exit(2)
    sys.exit(main("OperationsFunction", json.dumps(event(sys.argv[1], sys.argv[2:]))))
