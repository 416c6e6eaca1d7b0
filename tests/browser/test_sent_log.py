"""Seed 000's sent-message log and the message detail in the console: the rows the API returns for
the same query, its sorting, filtering, search, paging and CSV exports, and a message's timeline."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.support import Stack, axe_violations, csv_rows, open_screen, row_keys, rows_after, screenshot

pytestmark = pytest.mark.browser
JOB_SECONDS = 120  # only so that an export job that never ends fails the test instead of hanging it


def ids(items):
    return [item["message_id"] for item in items]


def test_the_sent_log_shows_the_rows_the_api_returns(stack: Stack, page: Page, watched):
    open_screen(page, stack, "/sent")
    shown = row_keys(page, "data-id")
    assert shown == ids(stack.items("/v1/messages")) and len(shown) > 1
    first = stack.items("/v1/messages")[0]
    expect(page.locator(f"tbody tr[data-id='{first['message_id']}']")).to_contain_text(first["subject"])
    assert axe_violations(page) == []
    screenshot(page, "sent-log")
    assert watched.foreign_requests == [] and watched.errors == []


def test_sorting_the_sent_log_by_a_column_asks_the_api_for_that_order(stack: Stack, page: Page):
    open_screen(page, stack, "/sent")
    row_keys(page, "data-id")
    by_subject = page.locator("button.sort[data-sort=subject]")
    ascending = ids(stack.items("/v1/messages", sort="subject", order="asc"))
    assert rows_after(page, by_subject.click, "data-id") == ascending
    expect(page.locator("th", has=by_subject)).to_have_attribute("aria-sort", "ascending")
    descending = ids(stack.items("/v1/messages", sort="subject", order="desc"))
    assert rows_after(page, by_subject.click, "data-id") == descending != ascending
    expect(page.locator("th", has=by_subject)).to_have_attribute("aria-sort", "descending")


def test_filtering_and_searching_the_sent_log(stack: Stack, page: Page):
    open_screen(page, stack, "/sent")
    row_keys(page, "data-id")
    page.locator("form.filters select[name=channel]").select_option("sms")
    apply = page.locator("form.filters button[type=submit]")
    sms = ids(stack.items("/v1/messages", channel="sms"))
    assert rows_after(page, apply.click, "data-id") == sms and 0 < len(sms) < len(stack.items("/v1/messages"))
    page.locator("form.filters select[name=channel]").select_option("")
    page.locator("form.filters input[name=q]").fill("Attendance")
    found = ids(stack.items("/v1/messages", q="Attendance"))
    assert rows_after(page, apply.click, "data-id") == found and found
    screenshot(page, "sent-log-search")


def test_paging_through_the_sent_log(stack: Stack, page: Page):
    first = stack.page("/v1/messages")
    assert first["next_cursor"], "the demo has more than one page of messages"
    second = stack.items("/v1/messages", cursor=first["next_cursor"])
    open_screen(page, stack, "/sent")
    assert row_keys(page, "data-id") == ids(first["items"])
    assert rows_after(page, page.get_by_role("button", name="Next page").click, "data-id") == ids(second)
    assert rows_after(page, page.get_by_role("button", name="Previous page").click, "data-id") == ids(first["items"])


def test_the_sent_log_exports_csv_inline_and_as_a_job(stack: Stack, page: Page):
    expected = csv_rows(stack.api("/v1/messages", format="csv", limit=200).text)
    assert len(expected) == len(stack.items("/v1/messages", limit=200))
    open_screen(page, stack, "/sent")
    row_keys(page, "data-id")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    with open(download.value.path(), encoding="utf-8") as saved:
        assert csv_rows(saved.read()) == expected
    page.get_by_role("button", name="Start export job").click()
    done = page.locator("[data-region=export] [data-state=done]")
    expect(done).to_be_visible(timeout=JOB_SECONDS * 1000)  # the job's progress, then its link
    link = done.locator("a.download").get_attribute("href")
    assert link
    assert csv_rows(requests.get(link, timeout=30).text) == expected  # the presigned file, as the browser gets it


def test_the_message_detail_shows_recipients_counts_and_the_event_timeline(stack: Stack, page: Page, watched):
    emails = stack.items("/v1/messages", channel="email")
    detail = next(d for d in (stack.api(f"/v1/messages/{m['message_id']}").json() for m in emails)
                  if len(d.get("events") or []) > 2)
    open_screen(page, stack, f"/messages/{detail['message_id']}")
    recipients = stack.page(f"/v1/messages/{detail['message_id']}")["recipients"]  # the console's query
    assert row_keys(page, "data-address") == [r["address"] for r in recipients] and recipients
    timeline = page.locator("[data-region=timeline] li")
    events = sorted(detail["events"], key=lambda e: e["timestamp"])
    expect(timeline).to_have_count(len(events))
    assert [timeline.nth(i).get_attribute("data-event") for i in range(len(events))] == [e["event"] for e in events]
    for name, value in detail["counts"].items():
        expect(page.locator(f"[data-region=counts] [data-count={name}] dd")).to_have_text(str(value))
    assert axe_violations(page) == []
    screenshot(page, "message-detail")
    assert watched.foreign_requests == [] and watched.errors == []


def test_refresh_status_asks_the_provider_and_shows_its_answer(stack: Stack, page: Page):
    # The demo tenant gave no provider API credentials: the API refuses the refresh, and the console says why
    message = stack.items("/v1/messages", channel="email")[0]
    path = f"/v1/messages/{message['message_id']}/refresh"
    refused = requests.post(f"{stack.base}{path}", timeout=120, headers={"Authorization": f"Bearer {stack.token}"})
    assert refused.status_code == 409, refused.text
    open_screen(page, stack, f"/messages/{message['message_id']}")
    page.get_by_role("button", name="Refresh status").click()
    expect(page.locator(".refresh-status [role=alert]")).to_contain_text(refused.json()["detail"])


def test_the_message_detail_says_when_the_body_was_erased(stack: Stack, page: Page, watched):
    # a message of its own whose only recipient is then erased (DELETE /v1/people/{id}): its body goes.
    # A minute before the demo's oldest: the other tests' "first e-mail message" stays one of the demo's
    oldest = stack.items("/v1/messages", order="asc", limit=1)[0]["created_at"]
    created_at = (datetime.fromisoformat(oldest) - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    person = f"erase-me-{uuid.uuid4().hex[:12]}"
    headers = {"Authorization": f"Bearer {stack.token}"}
    recorded = requests.post(f"{stack.base}/v1/messages", timeout=120, headers=headers, json={
        "channel": "email", "subject": "Report card", "body": {"text": "Only for one reader."},
        "created_at": created_at,
        "recipients": [{"address": f"{person}@example.com", "person_id": person, "name": "Erased, Soon"}]})
    assert recorded.status_code == 201, recorded.text
    message_id = recorded.json()["message_id"]
    for _ in range(10):  # a call stops after its time budget; a repeat carries on
        erased = requests.delete(f"{stack.base}/v1/people/{person}", timeout=120, headers=headers)
        assert erased.status_code in (200, 202), erased.text
        if erased.json()["complete"]:
            break
    detail = stack.api(f"/v1/messages/{message_id}").json()
    assert detail["body"] is None and detail["body_erased_at"], detail
    open_screen(page, stack, f"/messages/{message_id}")
    said = page.locator("[data-state=erased]")
    expect(said).to_contain_text("erased on")
    expect(said.locator("time")).to_have_attribute("datetime", detail["body_erased_at"])
    expect(page.locator("[data-state=no-body]")).to_have_count(0)
    assert watched.foreign_requests == [] and watched.errors == []
