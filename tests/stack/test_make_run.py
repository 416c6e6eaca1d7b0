"""`make run` as a newcomer meets it (issue 22): the API answers while the demo still loads behind
it, and Ctrl-C stops everything at once, the demo half loaded and requests in flight."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from local.template import ROOT
from tests.support import free_port

pytestmark = pytest.mark.stack


def start_as_make_run(**settings: str) -> tuple[subprocess.Popen, str, str, list[str]]:
    """`make run`'s process on free ports; returns it, its base URL, the banner it printed and the
    lines it prints after (read on, so that a full pipe never blocks its output)."""
    port, moto_port = free_port(), free_port()
    env = {**os.environ, "PORT": str(port), "MOTO_PORT": str(moto_port),
           "PYTHONPATH": f"{ROOT / 'layers' / 'msglog'}:{ROOT}", **settings}
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "TABLE_NAME", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    process = subprocess.Popen([sys.executable, "-m", "local.stack"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    banner = []
    for line in process.stdout:  # the banner ends with how to stop; a stack that dies ends the output
        banner.append(line)
        if "Ctrl-C" in line:
            break
    after: list[str] = []
    threading.Thread(target=lambda: after.extend(process.stdout), daemon=True).start()
    return process, f"http://127.0.0.1:{port}", "".join(banner), after


def test_health_answers_while_the_demo_loads_and_ctrl_c_stops_at_once():
    process, base, banner, after = start_as_make_run()  # the full demo: 240 messages
    try:
        assert "Ctrl-C" in banner, banner
        token = re.search(r"export TOKEN=(\S+)", banner).group(1)
        assert f"{base}/console/#token={token}" in banner
        assert requests.get(f"{base}/v1/health", timeout=10).status_code == 200
        loaded = requests.get(f"{base}/v1/messages?limit=200", headers={"Authorization": f"Bearer {token}"},
                              timeout=30).json()["items"]
        assert len(loaded) < 200  # served before the demo is all there: it loads behind the API

        stop_asking = threading.Event()

        def ask() -> None:  # requests in flight when Ctrl-C comes
            while not stop_asking.is_set():
                try:
                    requests.get(f"{base}/v1/events?limit=200", headers={"Authorization": f"Bearer {token}"},
                                 timeout=10)
                except requests.RequestException:
                    return

        askers = [threading.Thread(target=ask, daemon=True) for _ in range(3)]
        for asker in askers:
            asker.start()
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        try:
            returncode = process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            returncode = None
        stop_asking.set()
        assert returncode in (0, 130), (returncode, "".join(after)[-3000:])  # None: still running 3 s after Ctrl-C
        assert not any(line.startswith("demo loaded") for line in after)  # it was stopped mid-load
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{base}/v1/health", timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_ctrl_c_stops_it_whichever_of_its_threads_the_kernel_hands_the_signal_to():
    # Linux gives a process's signal to any thread that does not block it; Python runs the handler in
    # the main thread only when that thread next runs, so a main thread blocked on a lock slept on.
    process, base, banner, after = start_as_make_run(SEED="0")
    try:
        assert requests.get(f"{base}/v1/health", timeout=10).status_code == 200
        # the oldest threads first (moto's, the API's server): they live as long as the stack; a request's
        # thread may be gone by the time it is signalled
        others = sorted(int(tid) for tid in os.listdir(f"/proc/{process.pid}/task") if int(tid) != process.pid)
        assert others, "the stack serves from threads of its own"
        for tid in others:
            try:
                os.kill(tid, signal.SIGINT)  # kill() with a thread's id hands the signal to that thread first
                break
            except ProcessLookupError:
                continue
        try:
            returncode = process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            returncode = None
        assert returncode in (0, 130), (returncode, "".join(after)[-3000:])
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
