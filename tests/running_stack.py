"""`make run`'s stack started as a user starts it, for the tests that drive it over real HTTP (tests/stack,
tests/browser): its own process on free ports, demo data loaded, stopped as Ctrl-C stops it."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import pytest

from local.template import ROOT
from tests.support import free_port

STARTUP_SECONDS = 300  # only so that a stack that never loads the demo fails instead of hanging
STOP_SECONDS = 60  # Ctrl-C stops it within a second or two; a stack that hangs is killed after this


@dataclass
class RunningStack:
    base: str
    port: int
    token: str  # the demo tenant's admin token, as the banner prints it
    banner: str
    process: subprocess.Popen[str]
    env: dict[str, str]
    output: list[str] = field(default_factory=list)  # everything it printed, to the end


def start(demo_messages: int, **settings: str) -> RunningStack:
    """`make run` with DEMO_MESSAGES and these settings from the shell, once its demo is loaded."""
    port, moto_port = free_port(), free_port()
    env = {**os.environ, "PORT": str(port), "MOTO_PORT": str(moto_port), "DEMO_MESSAGES": str(demo_messages),
           "PYTHONPATH": f"{ROOT / 'layers' / 'msglog'}:{ROOT}", **settings}
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "TABLE_NAME", "AWS_ENDPOINT_URL"):
        env.pop(name, None)  # the in-process tests' fake AWS settings are not the stack's
    process = subprocess.Popen([sys.executable, "-m", "local.stack"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def read_on() -> None:  # to the end: a pipe left full would block the stack's output
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)

    threading.Thread(target=read_on, daemon=True).start()
    banner: list[str] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:  # the banner, then the demo's progress (it loads behind the API) to its summary
        try:
            banner.append(line := lines.get(timeout=max(0.0, deadline - time.monotonic())))
        except queue.Empty:
            break
        if line.startswith(("demo loaded", "demo loading failed")):
            break
    text = "".join(banner)
    found = re.search(r"export TOKEN=(\S+)", text)
    if process.poll() is not None or "Ctrl-C" not in text or "demo loaded" not in text or not found:
        process.kill()
        pytest.fail(f"the local stack did not start and load the demo:\n{text}")
    return RunningStack(f"http://127.0.0.1:{port}", port, found.group(1), text, process, env, output)


def stop(process: subprocess.Popen[str]) -> None:
    """As Ctrl-C: its functions' processes and moto stop with it; killed only if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
