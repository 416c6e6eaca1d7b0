"""The console in a real browser: `make run`'s stack (its own process, demo data loaded), Debian's
headless Chromium driven by Playwright, and a fresh browser profile for each test that refuses
anything outside the stack's origin and records script errors (helpers: tests/browser/support.py).

`make test` installs Chromium (apt) and axe-core (npm ci) first: `make browser`. Nothing is
downloaded at run time; Chromium's own background traffic is switched off."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from local.template import ROOT
from tests.browser.support import Stack
from tests.support import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DEMO_MESSAGES = 60  # enough for a second page of every list at the console's page sizes, quick to load
STARTUP_SECONDS = 300  # only so that a stack that never loads the demo fails instead of hanging
STOP_SECONDS = 60  # Ctrl-C stops it within a second or two; a stack that hangs is killed after this
ACTION_TIMEOUT_MS = 90_000  # only so that a screen that never draws fails instead of hanging (a busy machine is slow)
VIEWPORT = {"width": 1280, "height": 860}


def _start_stack() -> Stack:
    port, moto_port = free_port(), free_port()
    env = {**os.environ, "PORT": str(port), "MOTO_PORT": str(moto_port), "DEMO_MESSAGES": str(DEMO_MESSAGES),
           "PYTHONPATH": f"{ROOT / 'layers' / 'msglog'}:{ROOT}"}
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
    while time.monotonic() < deadline:  # the banner, then the demo's progress to its summary
        try:
            banner.append(line := lines.get(timeout=max(0.0, deadline - time.monotonic())))
        except queue.Empty:
            break
        if line.startswith(("demo loaded", "demo loading failed")):
            break
    text = "".join(banner)
    found = re.search(r"export TOKEN=(\S+)", text)
    if process.poll() is not None or "demo loaded" not in text or not found:
        process.kill()
        pytest.fail(f"the local stack did not start and load the demo:\n{text}")
    return Stack(f"http://127.0.0.1:{port}", found.group(1), text, process, output)


@pytest.fixture(scope="package")
def stack() -> Iterator[Stack]:
    """One stack for the browser suite (stopped after its last test, before tests/stack starts its
    own): the tests only read, or change what they made themselves."""
    running = _start_stack()
    yield running
    running.process.send_signal(signal.SIGINT)  # as Ctrl-C: its functions' processes and moto stop with it
    try:
        running.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        running.process.kill()
        running.process.wait()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    # launch() gives every run a fresh, empty user-data-dir of its own (removed at close)
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Watched:
    """What a page did that the user would not see: requests outside its own origin, script errors,
    Content-Security-Policy violations (Chromium reports those on the console)."""

    foreign_requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def watched() -> Watched:
    return Watched()


@pytest.fixture
def context(browser: Browser, stack: Stack, watched: Watched) -> Iterator[BrowserContext]:
    """A fresh browser profile (no storage, no cookies) for each test; anything that leaves the
    stack's origin is refused and recorded (the console loads nothing from elsewhere)."""
    origin = urlsplit(stack.base).netloc
    fresh = browser.new_context(viewport=VIEWPORT, accept_downloads=True, locale="en-US")
    fresh.set_default_timeout(ACTION_TIMEOUT_MS)

    def gate(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).netloc == origin or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            watched.foreign_requests.append(url)
            route.abort()

    fresh.route("**/*", gate)
    yield fresh
    fresh.close()


@pytest.fixture
def page(context: BrowserContext, watched: Watched) -> Iterator[Page]:
    opened = context.new_page()
    opened.on("pageerror", lambda error: watched.errors.append(f"script error: {error}"))
    opened.on("console", lambda message: watched.errors.append(f"console {message.type}: {message.text}")
              if message.type == "error" else None)
    yield opened
    opened.close()
