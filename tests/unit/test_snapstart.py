"""SnapStart: environments restored from one snapshot share nothing that must be unique.

os.fork stands in for Lambda restoring one initialised process twice: the parent imports a
handler and fills what a snapshot would hold; each child runs the after-restore hooks, as the
runtime does, and reports what it sees.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.cold_start import RESTORE_TARGET, ColdStart, snapstart_functions
from bench.figures import cold_starts
from bench.report import Report
from local.template import routes
from msglog import arrivals, cursor, snapstart, tenants
from msglog.aws import client
from msglog.config import config
from msglog.ids import new_ulid
from msglog.models import Entity
from tests.conftest import ROOT


def _import_handler(function: str) -> None:
    """The snapshot's init: the function's handler module imported, as Lambda does before snapshotting."""
    spec = importlib.util.spec_from_file_location(f"snapshot_{function}_app", ROOT / "functions" / function / "app.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


def _restored_copies(observe: Callable[[], Any], copies: int = 2) -> list[Any]:
    """What `observe()` returns in each of `copies` restores of this process."""
    snapshot_random = random.getstate()  # fork reseeds `random` in the child; a memory snapshot does not
    results = []
    for _ in range(copies):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                os.close(read)
                random.setstate(snapshot_random)
                snapstart.restored()
                with os.fdopen(write, "w") as out:
                    json.dump(observe(), out)
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        with os.fdopen(read) as answer:
            text = answer.read()
        _, status = os.waitpid(pid, 0)
        assert status == 0 and text, "the restored copy failed"
        results.append(json.loads(text))
    return results


def test_two_restored_copies_of_one_process_mint_different_ids():
    _import_handler("webhooks")
    at = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)  # the same millisecond: only the random part can differ

    first, second = _restored_copies(lambda: {"ids": [new_ulid(at), new_ulid()], "draw": random.random()})

    assert set(first["ids"]).isdisjoint(second["ids"])
    # purge and health-check run ids come from `random`: seeded at import, so the snapshot's own
    assert first["draw"] != second["draw"]


def test_a_restored_copy_drops_what_the_snapshot_cached():
    _import_handler("webhooks")
    snapstart.snapshotting()  # as at publish: the DynamoDB client made before the snapshot
    cached_config, cached_client = config(), client("sqs")
    dynamodb = Entity._get_connection().connection.client
    signed_with = dynamodb._request_signer._credentials
    cursor._keys_cache = (time.monotonic() + 300, [b"k" * 32])  # a key read before the snapshot
    tenants._settings_cache["t-snapshot"] = (time.monotonic() + 300, None)
    tenants._credentials_cache[("t-snapshot", "sendgrid")] = (time.monotonic() + 300, [])
    arrivals._written[("t-snapshot", "sendgrid", True)] = ("2026-12-03T08", time.monotonic())

    def observe() -> dict[str, bool]:
        return {
            "config reread": config() is not cached_config,
            "new client": client("sqs") is not cached_client,
            "new DynamoDB client": Entity._get_connection().connection.client is not dynamodb,
            "its own credentials": Entity._get_connection().connection.client._request_signer._credentials
                                   is not signed_with,
            "cursor keys forgotten": cursor._keys_cache is None,
            "tenant caches empty": not tenants._settings_cache and not tenants._credentials_cache,
            "arrivals forgotten": not arrivals._written,
        }

    for copy in _restored_copies(observe):
        assert copy == dict.fromkeys(copy, True)
    # the snapshot itself (a later restore's source) still holds its state until restored
    assert config() is cached_config and cursor._keys_cache is not None


def test_the_bench_measures_snapstart_on_exactly_the_functions_that_have_it():
    api_functions = {r.function for r in routes() if r.authorized or r.key.startswith("POST /v1/webhooks/")}
    assert snapstart_functions() == api_functions


def test_the_restore_path_is_reported_against_the_floor():
    floor = ColdStart("floor", None, 1.0, wall_ms=[1000.0])
    webhooks = ColdStart("WebhooksFunction", "webhook.json", 1.35, wall_ms=[1300.0], import_ms=[500.0],
                         invoke_ms=[100.0], statuses={200}, snapstart=True, restore_ms=[300.0, 500.0, 200.0])
    report = Report()
    cold_starts(report, floor, [webhooks])
    restore = next(row for row in report.rows if row.name == "SnapStart restore: WebhooksFunction")
    assert restore.measured.startswith("0.30× floor (300 ms")
    assert (restore.target, restore.passed) == (f"≤ {RESTORE_TARGET}×", True)
