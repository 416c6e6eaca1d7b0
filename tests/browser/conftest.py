"""The console in a real browser: `make run`'s stack (its own process, demo data loaded), Debian's
headless Chromium driven by Playwright, and a fresh browser profile for each test that refuses
anything outside the stack's origin and records script errors (helpers: tests/browser/support.py).

`make test` installs Chromium (apt) and axe-core (npm ci) first: `make browser`. Nothing is
downloaded at run time; Chromium's own background traffic is switched off."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests import running_stack
from tests.browser.support import Stack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DEMO_MESSAGES = 60  # enough for a second page of every list at the console's page sizes, quick to load
ACTION_TIMEOUT_MS = 90_000  # only so that a screen that never draws fails instead of hanging (a busy machine is slow)
VIEWPORT = {"width": 1280, "height": 860}


@pytest.fixture(scope="package")
def stack() -> Iterator[Stack]:
    """One stack for the browser suite (stopped after its last test, before tests/stack starts its
    own): the tests only read, or change what they made themselves."""
    running = running_stack.start(DEMO_MESSAGES)
    yield Stack(running.base, running.token, running.banner, running.process, running.output)
    running_stack.stop(running.process)


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
