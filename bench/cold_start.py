"""Figure 1: the cold start of every function in template.yaml, against a floor.

Each run is a fresh Python process (bench.cold_child), timed from spawn to exit by this process:
either it serves the function's sample event from events/ (AWS answered by bench.stub_aws), or it
only creates a botocore DynamoDB client — the floor no function can go below. Runs are
interleaved round by round (floor, then each function), so that a busy moment of the machine
hits every function alike; the figure is the median of ROUNDS runs, as a ratio to the floor's.
One more run of a few functions with `-X importtime` says where import time goes. The functions
with SnapStart (template.yaml) also run its path each round: in a process that has imported the
handler (the snapshot), the after-restore hooks and the first invocation, timed in-process. The shared
code is packaged as the layer's build packages it (`make -C layers/msglog package`: bytecode
included), so that a cold start here compiles what one in Lambda compiles, and no more.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.template import ROOT, Function, functions, resources

ROUNDS = 9  # this VM's speed varies from one process to the next: with 5 rounds, verdicts flipped run to run
EVENTS = ROOT / "events"
WEBHOOKS = "WebhooksFunction"
TARGETS = {WEBHOOKS: 1.35}
DEFAULT_TARGET = 1.6
RESTORE_TARGET = 0.35  # SnapStart: the after-restore hooks and the first invocation, against the floor


@dataclass
class ColdStart:
    function: str
    sample: str | None
    target: float
    wall_ms: list[float] = field(default_factory=list)
    import_ms: list[float] = field(default_factory=list)
    invoke_ms: list[float] = field(default_factory=list)
    statuses: set[Any] = field(default_factory=set)
    heaviest_imports: list[tuple[str, float]] = field(default_factory=list)
    error: str | None = None  # the process failed: no figure
    snapstart: bool = False
    restore_ms: list[float] = field(default_factory=list)  # SnapStart: after-restore hooks + first invocation

    @property
    def median_ms(self) -> float:
        return statistics.median(self.wall_ms)


def snapstart_functions() -> set[str]:
    """The functions template.yaml can put on SnapStart (its SnapStart parameter decides)."""
    return {logical_id for logical_id, resource in resources().items()
            if resource["Type"] == "AWS::Serverless::Function" and "SnapStart" in resource["Properties"]}


def sample_events() -> dict[str, Path]:
    """Each function's sample event: the first that events/README.md lists for it, else the first
    whose routeKey is one of the function's routes, else events/<name>.json."""
    samples: dict[str, Path] = {}
    for line in (EVENTS / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[1].endswith("Function"):
            first = re.search(r"`([^`]+\.json)`", cells[0])
            if first and (EVENTS / first.group(1)).exists():
                samples.setdefault(cells[1], EVENTS / first.group(1))
    from local.template import routes

    by_route = {route.key: route.function for route in routes()}
    for path in sorted(EVENTS.glob("*.json")):
        route_key = json.loads(path.read_text()).get("routeKey")
        if route_key in by_route:
            samples.setdefault(by_route[route_key], path)
    for name in functions():  # a function without a route (replay, purge): events/<name>.json
        named = EVENTS / f"{name.removesuffix('Function').lower()}.json"
        if named.exists():
            samples.setdefault(name, named)
    return samples


def package_layer(dest: Path) -> Path:
    """The shared code as the layer ships it (layers/msglog/Makefile), in dest/python."""
    subprocess.run(["make", "--no-print-directory", "-s", "-C", str(ROOT / "layers" / "msglog"), "package",
                    f"DEST={dest / 'python'}", f"PYTHON={sys.executable}"], check=True)
    return dest / "python"


def _environment(function: Function, function_env: dict[str, str], endpoint: str, layer: Path) -> dict[str, str]:
    """What Lambda would set, the template's variables, and AWS pointed at the stub (fake keys,
    no shared config files: nothing real is ever read). Lambda's file system is read-only: no
    bytecode is written."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": f"{layer}:{ROOT}",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        **function_env,
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here (as in the local stack)
        "WEBHOOK_MAX_AGE_SECONDS": "0",  # the sample webhook was signed in 2014 (events/README.md)
    }


def _run(args: list[str], env: dict[str, str], *, importtime: bool = False) -> tuple[float, dict[str, Any], str]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = out.name
    try:
        flags = ["-X", "importtime"] if importtime else []
        command = [sys.executable, *flags, "-m", "bench.cold_child", path, *args]
        start = time.perf_counter()
        done = subprocess.run(command, check=False, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        wall = (time.perf_counter() - start) * 1000
        if done.returncode != 0:
            raise RuntimeError(f"cold start {args[0]} failed: {done.stderr[-2000:]}")
        return wall, json.loads(Path(path).read_text()), done.stderr
    finally:
        os.unlink(path)


def restore_ms(serve_args: list[str], env: dict[str, str]) -> float:
    """SnapStart's path for the function `serve_args` serves: after-restore hooks + first invocation."""
    _, inside, _ = _run(["restore", *serve_args[1:]], env)
    if isinstance(inside["status"], int) and inside["status"] >= 500:
        raise RuntimeError(f"restore answered {inside['status']}")
    return inside["restore_ms"]


def heaviest_imports(importtime_log: str, top: int = 4) -> list[tuple[str, float]]:
    """Import time by top-level package (self times summed), heaviest first, in ms."""
    totals: dict[str, float] = {}
    for line in importtime_log.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|(\s*)(\S+)", line)
        if match:
            package = match.group(3).split(".")[0]
            totals[package] = totals.get(package, 0.0) + int(match.group(1)) / 1000
    return sorted(totals.items(), key=lambda kv: -kv[1])[:top]


def run(function_envs: dict[str, dict[str, str]], endpoint: str,
        rounds: int = ROUNDS) -> tuple[ColdStart, list[ColdStart]]:
    """The floor and every function's cold starts, `rounds` each."""
    with tempfile.TemporaryDirectory(prefix="bench-layer-") as packaged:
        return _run_all(function_envs, endpoint, rounds, package_layer(Path(packaged)))


def _run_all(function_envs: dict[str, dict[str, str]], endpoint: str, rounds: int,
             layer: Path) -> tuple[ColdStart, list[ColdStart]]:
    samples = sample_events()
    template = functions()
    floor_env = _environment(next(iter(template.values())), {}, endpoint, layer)
    floor = ColdStart("floor (botocore DynamoDB client)", None, 1.0)
    snapstart = snapstart_functions()
    starts = [ColdStart(name, samples[name].name if name in samples else None, TARGETS.get(name, DEFAULT_TARGET),
                        snapstart=name in snapstart)
              for name in template]
    plans = {s.function: (["serve", str(template[s.function].code_uri), template[s.function].handler,
                           str(samples[s.function])] if s.sample else None,
                          _environment(template[s.function], function_envs.get(s.function, {}), endpoint, layer))
             for s in starts}
    _run(["floor"], floor_env)  # the first process of all warms the file cache; not counted
    for _ in range(rounds):
        wall, inside, _ = _run(["floor"], floor_env)
        floor.wall_ms.append(wall)
        floor.import_ms.append(inside["import_ms"])
        for start in starts:
            args, env = plans[start.function]
            if args is None or start.error:
                continue
            try:
                wall, inside, _ = _run(args, env)
                restored = restore_ms(args, env) if start.snapstart else None
            except RuntimeError as failure:  # reported, and the other functions still measured
                start.error = str(failure).strip().splitlines()[-1][:300]
                start.wall_ms.clear()
                continue
            start.wall_ms.append(wall)
            start.import_ms.append(inside["import_ms"])
            start.invoke_ms.append(inside["invoke_ms"])
            start.statuses.add(inside["status"])
            if restored is not None:
                start.restore_ms.append(restored)
    for start in _diagnosed(starts):
        args, env = plans[start.function]
        start.heaviest_imports = heaviest_imports(_run(args, env, importtime=True)[2])
    return floor, starts


def _diagnosed(starts: list[ColdStart]) -> list[ColdStart]:
    """Where import time goes, for the webhook function, the lightest and the heaviest other (one run
    each, `-X importtime`: enough to see what every function shares and what the heavy ones add)."""
    webhooks = [s for s in starts if s.wall_ms and s.function == WEBHOOKS]
    others = sorted((s for s in starts if s.wall_ms and s.function != WEBHOOKS), key=lambda s: s.median_ms)
    return webhooks + others[:1] + others[-1:]
