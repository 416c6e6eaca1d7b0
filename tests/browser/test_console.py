"""The console as a person meets it: `make run`'s printed link, served by the local stack, signed in;
what a token without a right sees; nothing loaded from elsewhere."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import Stack, axe_violations, demo_token, open_screen, screenshot

pytestmark = pytest.mark.browser


def test_the_printed_console_link_opens_the_console_signed_in(stack: Stack, page: Page, watched):
    [link] = re.findall(r"^\s+(http://127\.0\.0\.1:\d+/console/#token=\S+)$", stack.banner, re.M)
    answer = page.goto(link)
    assert answer is not None and answer.status == 200, "GET /console/ is not served"
    me = stack.api("/v1/me").json()
    expect(page.locator("header .user")).to_have_text(me["name"])  # signed in as the token's user
    expect(page.locator("main#main")).to_have_attribute("data-state", "ready")
    assert "token=" not in page.url  # the token left the address bar (and its history)
    screenshot(page, "console-first-screen")
    assert watched.foreign_requests == [] and watched.errors == []


def test_the_sign_in_screen_takes_a_pasted_token(stack: Stack, page: Page, watched):
    page.goto(f"{stack.base}/console/")
    expect(page.locator("main#main")).to_have_attribute("data-state", "sign-in")
    assert axe_violations(page) == []
    screenshot(page, "sign-in")
    page.get_by_label("Access token (JWT)").fill(stack.token)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("main#main")).to_have_attribute("data-state", "ready")
    expect(page.locator("#nav")).to_be_visible()
    assert watched.foreign_requests == [] and watched.errors == []


def test_a_token_without_a_right_does_not_see_that_screen(stack: Stack, page: Page):
    provider_only = demo_token("logs:provider")  # opens the provider event log, not the sent log
    assert stack.api("/v1/me", token=provider_only).json()["views"] == ["events"]
    assert stack.api("/v1/messages", token=provider_only).status_code == 403  # the API agrees
    open_screen(page, stack, "/sent", token=provider_only)
    expect(page.locator("main [data-state=denied]")).to_be_visible()
    expect(page.locator("main tbody tr")).to_have_count(0)
    expect(page.locator("#nav a", has_text="Sent messages")).to_have_count(0)
    expect(page.locator("#nav a")).to_have_text(["Provider events"])  # the one screen it opens
    screenshot(page, "denied")
