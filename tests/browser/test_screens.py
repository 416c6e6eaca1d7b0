"""Every other seed screen in the console: it opens, shows the rows the API returns for the same
query and token, has no serious or critical accessibility violation, and is screenshotted; the
blacklist's reset, a person's recipient log tabs, the account charts and the ingestion codes."""

from __future__ import annotations

import re
from datetime import date, datetime
from datetime import time as dt_time
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import Page, Route, expect

from msglog.errors import FieldError
from msglog.problems import PROBLEM
from msglog.problems import body as problem_body
from tests.browser.support import Stack, axe_violations, open_screen, results, row_keys, rows_after, screenshot

pytestmark = pytest.mark.browser

# screenshot name, console route, the API's route and query as the console asks, row attribute, item key
LISTS = [
    ("provider-events", "/events", "/v1/events", {}, "data-event-id", "event_id"),
    ("sms-log", "/sms", "/v1/sends", {"channel": "sms"}, "data-id", "send_id"),
    ("people", "/people", "/v1/people", {}, "data-person-id", "person_id"),
    ("blacklisted-recipients", "/suppressions", "/v1/suppressions", {}, "data-address", "address"),
    ("activity-log", "/activity", "/v1/activity", {}, "data-id", "id"),
    ("audit-log", "/audit", "/v1/audit", {}, "data-id", "id"),
    ("panel-log", "/panel-log", "/v1/panel-log", {}, "data-id", "id"),
    ("user-logins", "/logins", "/v1/logins", {}, "data-id", "id"),
    ("ingestion-log", "/ingestion", "/v1/ingestion-log", {}, "data-id", "id"),
]


@pytest.mark.parametrize(("name", "route", "path", "query", "attribute", "key"), LISTS, ids=[s[0] for s in LISTS])
def test_each_screen_shows_the_rows_the_api_returns(stack: Stack, page: Page, watched, name, route, path, query,
                                                    attribute, key):
    open_screen(page, stack, route)
    shown = row_keys(page, attribute)
    assert shown == [item[key] for item in stack.items(path, **query)]
    if not shown:
        expect(page.locator("main .results [data-state=empty]")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, name)
    assert watched.foreign_requests == [] and watched.errors == []


def test_the_api_log_shows_the_api_s_rows(stack: Stack, page: Page, watched):
    open_screen(page, stack, "/api-log")
    shown = row_keys(page, "data-id")
    answered = [item["id"] for item in stack.items("/v1/api-log")]
    # Every call is logged, the console's own too: the API's answer is what the console drew, pushed
    # down by the few calls made since (newest first).
    since = next((k for k in range(6) if answered[k:] == shown[:len(answered) - k]), None)
    assert len(shown) > 1 and since is not None, (shown, answered)
    assert axe_violations(page) == []
    screenshot(page, "api-log")
    assert watched.foreign_requests == [] and watched.errors == []


def test_a_person_s_recipient_log_has_a_tab_per_channel(stack: Stack, page: Page, watched):
    message = stack.items("/v1/messages", channel="email")[0]["message_id"]
    person = next(r["person_id"] for r in stack.page(f"/v1/messages/{message}")["recipients"] if r.get("person_id"))
    recipient = f"person:{person}"
    open_screen(page, stack, f"/people/{recipient}?channel=email")
    emails = [m["message_id"] for m in stack.items(f"/v1/recipients/{recipient}/messages", channel="email")]
    assert row_keys(page, "data-id") == emails and message in emails
    assert axe_violations(page) == []
    screenshot(page, "recipient-log")
    sms = [m["message_id"] for m in stack.items(f"/v1/recipients/{recipient}/messages", channel="sms")]
    tab = page.locator("nav.tabs a", has_text="SMS")
    assert rows_after(page, tab.click, "data-id") == sms
    assert watched.foreign_requests == [] and watched.errors == []


def test_resetting_a_blacklisted_address(stack: Stack, page: Page, watched):
    address = "reset-me@browser.example"  # blacklisted by this test, so the others' rows stay theirs
    added = requests.put(f"{stack.base}/v1/suppressions/{address}", json={"reason": "invalid"}, timeout=120,
                         headers={"Authorization": f"Bearer {stack.token}"})
    assert added.status_code in (200, 201), added.text
    open_screen(page, stack, f"/suppressions?q={address}")
    assert row_keys(page, "data-address") == [address]
    page.get_by_role("button", name=f"Reset {address}").click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_be_visible()
    screenshot(page, "blacklist-reset-confirmation")
    dialog.get_by_role("button", name="Reset", exact=True).click()
    expect(page.locator("[data-region=reset-status]")).to_contain_text(address)
    assert row_keys(page, "data-address") == []
    assert stack.api(f"/v1/suppressions/{address}").status_code == 404  # reset in the API, not only on screen
    assert address not in [s["address"] for s in stack.items("/v1/suppressions", limit=200)]
    assert watched.foreign_requests == [] and watched.errors == []


def test_the_account_logs_chart_the_api_s_counts_per_day(stack: Stack, page: Page, watched):
    open_screen(page, stack, "/account")
    expect(page.locator("[data-region=totals]")).to_be_visible()
    # the same query: the form's dates, whole days in the tenant's time zone
    zone = ZoneInfo(stack.api("/v1/me").json()["time_zone"])
    form = page.locator("form[aria-label='Account log dates']")
    start, end = (form.locator(f"input[name={name}]").input_value() for name in ("from", "to"))
    window = {"from": datetime.combine(date.fromisoformat(start), dt_time(0, 0, 0), zone).isoformat(),
              "to": datetime.combine(date.fromisoformat(end), dt_time(23, 59, 59, 999000), zone).isoformat(
                  timespec="milliseconds")}  # a day ends at its last millisecond, as the console says it
    days = sorted(stack.api("/v1/stats", group="day", **window).json()["items"], key=lambda d: d["date"])
    expected = [f"{d['date']}: {sum(c.get('sent', 0) for c in d['channels'].values())} sent, "
                f"{sum(c.get('failed', 0) for c in d['channels'].values())} failed" for d in days]
    assert page.locator("main svg[role=img] g[data-date] > title").all_text_contents() == expected and expected
    assert axe_violations(page) == []
    screenshot(page, "account-logs")
    assert watched.foreign_requests == [] and watched.errors == []


def test_the_ingestion_log_explains_every_code_and_shows_the_health(stack: Stack, page: Page):
    open_screen(page, stack, "/ingestion")
    row_keys(page, "data-id")
    codes = set(page.locator("[data-region=codes] dt").all_inner_texts())
    shown = {code.get_attribute("data-code") for code in page.locator("main .results li[data-code]").all()}
    assert shown and shown <= codes  # each code a row shows is explained in words
    assert {"LOG_OK"} <= codes and any(code.startswith("NOLOG_") for code in codes)
    expect(page.locator("[data-region=health]")).to_be_visible()
    expect(page.locator("[data-region=health]")).to_have_attribute("aria-busy", "false")
    health = stack.api("/v1/ingestion-health").json()["providers"]
    panels = page.locator("[data-region=health] [data-provider]")
    assert [(p.get_attribute("data-provider"), p.get_attribute("data-health")) for p in panels.all()] == [
        (shown["provider"], shown["state"]) for shown in health] and health  # the check's judgement, as the API says


# the 400 a capped sort answers above SORT_MAX_ITEMS items in range (msglog.pages.sorted_page); the demo
# holds fewer, so the test gives the console that answer, in the API's problem+json
TOO_MANY = problem_body(400, "Bad request", "sort=recipient reads every item of the range, at most 1,000, and this "
                        "range holds more: narrow from/to, or sort by date",
                        [FieldError("sort", "needs a range of at most 1,000 items; narrow from/to")])


@pytest.mark.parametrize(("route", "api_path", "column", "sort"), [
    ("/sms", "/v1/sends", "Subscriber phone", "recipient"),
    ("/sms", "/v1/sends", "Status", "status"),
    ("/people/{recipient}?channel=email", "/v1/recipients/", "Recipient Email", "recipient"),
], ids=["sms-phone", "sms-status", "recipient-log"])
def test_a_sort_refused_for_too_many_rows_says_why_and_offers_the_date_order(stack: Stack, page: Page, watched,
                                                                          route, api_path, column, sort):
    message = stack.items("/v1/messages", channel="email")[0]["message_id"]
    person = next(r["person_id"] for r in stack.page(f"/v1/messages/{message}")["recipients"] if r.get("person_id"))
    refused: list[str] = []

    def too_many(answer: Route) -> None:
        if api_path in answer.request.url and f"sort={sort}" in answer.request.url:
            refused.append(answer.request.url)
            answer.fulfill(status=400, content_type=PROBLEM, json=TOO_MANY)
        else:
            answer.fallback()

    page.route("**/v1/**", too_many)
    open_screen(page, stack, route.format(recipient=f"person:{person}"))
    results(page)
    by_column = page.locator(f"main button.sort[data-sort={sort}]").first
    expect(by_column).to_have_text(column)
    rows_after(page, by_column.click, "data-id")
    problem = page.locator("main [data-region=error]").first  # the recipient log's own (the blacklist's is below)
    expect(problem).to_contain_text(TOO_MANY["title"])
    expect(problem.locator(".problem-detail")).to_have_text(TOO_MANY["detail"])
    expect(problem.locator(".problem-fields [data-field=sort]")).to_contain_text(TOO_MANY["errors"][0]["message"])
    assert len(refused) == 1
    # the way out the detail names, though the refused sort left no column to click
    back = problem.locator("button", has_text=re.compile(r"^Sort by date(/time)? instead$"))
    rows_after(page, back.click, "data-id")
    expect(problem).to_be_empty()
    assert results(page).count() > 0 and len(refused) == 1
    expect(page.locator("main th[aria-sort=descending]").first).to_contain_text("Date")
    assert watched.foreign_requests == []
