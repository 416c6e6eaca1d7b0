"""The local runtime runs a function in several execution environments at once, as Lambda does:
separate processes, each with its own module state, up to the function's concurrency."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from local.environments import Environments, FunctionError, Throttled
from local.server import Gateway
from local.template import Function

pytestmark = pytest.mark.stack
GATE = Function("GateFunction", Path(__file__).parent / "lambdas" / "gate", "app.handler", memory=128, timeout=60)


def runtime(concurrency: int, wait_seconds: float = 60) -> Environments:
    return Environments({"GateFunction": {"SETTING": "from the template"}}, concurrency=concurrency,
                        wait_seconds=wait_seconds, only={"GateFunction": GATE})


def test_invocations_at_once_run_in_separate_environments(tmp_path):
    environments = runtime(concurrency=4)
    try:
        with ThreadPoolExecutor(4) as clients:  # each waits at the gate until all four are running
            results = list(clients.map(lambda _: environments.invoke("GateFunction", {"gate": str(tmp_path),
                                                                                       "parties": 4}), range(4)))
    finally:
        environments.close()
    assert len({r["pid"] for r in results}) == 4
    assert [r["invocations"] for r in results] == [1, 1, 1, 1]  # module state is each environment's own
    assert {(r["function"], r["setting"]) for r in results} == {("GateFunction", "from the template")}
    assert environments.cold_starts("GateFunction") == 4


def test_a_warm_environment_is_reused_and_past_the_concurrency_a_request_is_throttled(tmp_path):
    environments = runtime(concurrency=1, wait_seconds=0)
    try:
        first = environments.invoke("GateFunction", {})
        with ThreadPoolExecutor(1) as clients:
            held = clients.submit(environments.invoke, "GateFunction", {"gate": str(tmp_path), "parties": 2})
            while not any(tmp_path.iterdir()) and not held.done():  # the one environment is busy at the gate
                time.sleep(0.01)
            with pytest.raises(Throttled):
                environments.invoke("GateFunction", {})
            (tmp_path / "opened").touch()
            second = held.result()
    finally:
        environments.close()
    assert (second["pid"], second["invocations"]) == (first["pid"], 2)
    assert environments.cold_starts("GateFunction") == 1


def test_a_crashed_environment_is_replaced(tmp_path):
    environments = runtime(concurrency=1)
    try:
        first = environments.invoke("GateFunction", {})
        with pytest.raises(FunctionError):
            environments.invoke("GateFunction", {"crash": True})
        after = environments.invoke("GateFunction", {})
    finally:
        environments.close()
    assert after["pid"] != first["pid"] and after["invocations"] == 1


class _Busy:
    """A runtime whose every function is at its concurrency."""

    names: list[str] = []

    def invoke(self, logical_id, event):
        raise Throttled(logical_id)


def test_a_throttled_function_is_answered_429_as_api_gateway_does():
    status, headers, body = Gateway(_Busy()).handle("GET", "/v1/health", {}, b"")
    assert (status, json.loads(body)) == (429, {"message": "Too Many Requests"})
