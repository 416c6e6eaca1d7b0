"""The log views: pagination across shards, time ranges, filters, search, cursors, detail."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import mailgun_event, token

WRITER = token(rights=["messages:write"], sub="sender-1")


def walk(api, path, auth="default"):
    """Every item of a list view, page by page; also how many pages it took."""
    items, cursor, pages = [], None, 0
    while True:
        sep = "&" if "?" in path else "?"
        reply = api.get(path + (f"{sep}cursor={cursor}" if cursor else ""), auth=auth)
        assert reply.status == 200, reply.json
        items += reply.json["items"]
        pages += 1
        cursor = reply.json["next_cursor"]
        if not cursor:
            return items, pages


def record_many(api, count, start=datetime(2026, 1, 1, tzinfo=UTC), **extra):
    rng = random.Random(7)
    ids = []
    for n in range(count):
        at = start + timedelta(minutes=rng.randint(0, 60 * 24 * 30))
        body = {"channel": "email", "subject": f"Message {n}", "created_at": at.isoformat(),
                "category": ["Behavior", "Attendance"][n % 2], "org_unit": f"school-{n % 3}",
                "sender": {"id": f"s{n % 2}", "name": ["Matthews, Dexter", "Clark, Kim"][n % 2]},
                "recipients": [{"address": f"r{n % 5}@example.com", "person_id": f"P{n % 5}", "family_id": f"F{n % 2}",
                                "role": "student"}], **extra}
        reply = api.post("/v1/messages", body, auth=WRITER)
        assert reply.status == 201
        ids.append((at, reply.json["message_id"]))
    return ids


def test_sent_log_pages_merge_shards_exactly(api):
    recorded = record_many(api, 37)
    expected = [mid for _, mid in sorted(recorded, reverse=True)]
    items, pages = walk(api, "/v1/messages?limit=5")
    assert [i["message_id"] for i in items] == expected  # newest first, no gap, no repeat
    assert pages >= 8
    ascending, _ = walk(api, "/v1/messages?limit=7&order=asc")
    assert [i["message_id"] for i in ascending] == expected[::-1]


def test_sent_log_time_range_and_filters(api):
    recorded = record_many(api, 30)
    start, end = datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 1, 20, tzinfo=UTC)
    inside = {mid for at, mid in recorded if start <= at <= end}
    start_at, end_at = (t.isoformat().replace("+00:00", "Z") for t in (start, end))
    items, _ = walk(api, f"/v1/messages?limit=4&from={start_at}&to={end_at}")
    assert {i["message_id"] for i in items} == inside
    behaviour, _ = walk(api, "/v1/messages?category=behavior&sender=Clark,%20Kim")
    assert behaviour == []  # behaviour messages are all Matthews's
    behaviour, _ = walk(api, "/v1/messages?category=Behavior&sender=s0&org_unit=school-0")
    assert {i["message_id"] for i in behaviour} == {
        mid for n, (_, mid) in enumerate(recorded) if n % 2 == 0 and n % 3 == 0
    }
    searched, _ = walk(api, "/v1/messages?q=message%2017")
    assert [i["subject"] for i in searched] == ["Message 17"]


def test_bad_list_parameters_name_the_field(api):
    for query, field in [("limit=0", "limit"), ("limit=201", "limit"), ("from=yesterday", "from"),
                         ("from=2026-01-01T00:00:00", "from"), ("order=sideways", "order"), ("sort=colour", "sort"),
                         ("cursor=abc", "cursor"), ("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from")]:
        reply = api.get(f"/v1/messages?{query}")
        assert reply.status == 400, query
        assert field in reply.fields, (query, reply.json)


def test_cursor_is_bound_to_query_and_tamper_proof(api):
    record_many(api, 6)
    cursor = api.get("/v1/messages?limit=2").json["next_cursor"]
    assert api.get(f"/v1/messages?limit=2&cursor={cursor}").status == 200
    assert api.get(f"/v1/messages?limit=3&cursor={cursor}").fields == ["cursor"]  # another query
    assert api.get(f"/v1/messages?limit=2&status=sent&cursor={cursor}").fields == ["cursor"]
    tampered = cursor[:20] + ("A" if cursor[20] != "A" else "B") + cursor[21:]
    assert api.get(f"/v1/messages?limit=2&cursor={tampered}").fields == ["cursor"]
    assert api.get(f"/v1/events?limit=2&cursor={cursor}").fields == ["cursor"]  # another view


def test_recipient_log_by_address_person_and_family(api):
    recorded = record_many(api, 20)
    by_address, _ = walk(api, "/v1/recipients/R3@Example.com/messages?limit=2")
    assert {i["message_id"] for i in by_address} == {mid for n, (_, mid) in enumerate(recorded) if n % 5 == 3}
    encoded, _ = walk(api, "/v1/recipients/r3%40example.com/messages")
    assert [i["message_id"] for i in encoded] == [i["message_id"] for i in by_address]
    by_person, _ = walk(api, "/v1/recipients/person:P3/messages?limit=3")
    assert [i["message_id"] for i in by_person] == [i["message_id"] for i in by_address]
    by_family, _ = walk(api, "/v1/recipients/family:F1/messages?limit=3")
    assert {i["message_id"] for i in by_family} == {mid for n, (_, mid) in enumerate(recorded) if n % 2 == 1}
    times = [i["created_at"] for i in by_family]
    assert times == sorted(times, reverse=True)
    for bad in ("has%20space", "person:", "+12", "bad@address"):
        assert api.get(f"/v1/recipients/{bad}/messages").status in (400, 404), bad


def test_recipient_log_channel_and_status(api):
    api.setup_tenant("acme")
    email = api.record(recipients=[{"address": "x@example.com", "person_id": "P1", "role": "student"}])
    api.record(channel="sms", recipients=[{"address": "+15550100001", "person_id": "P1", "role": "student"}])
    api.mailgun(mailgun_event("failed", "x@example.com", message_id=email, severity="permanent", reason="bounce"))
    sms, _ = walk(api, "/v1/recipients/person:P1/messages?channel=sms")
    assert [i["channel"] for i in sms] == ["sms"]
    bounced, _ = walk(api, "/v1/recipients/person:P1/messages?status=bounced")
    assert [i["message_id"] for i in bounced] == [email]


def test_event_log_filters_by_recipient_and_message(api):
    api.setup_tenant("acme")
    first = api.record(recipients=[{"address": "a@example.com"}, {"address": "b@example.com"}])
    second = api.record(recipients=[{"address": "a@example.com"}])
    t = time.time()
    for n, (address, mid, event) in enumerate(
        [
            ("a@example.com", first, "delivered"),
            ("b@example.com", first, "opened"),
            ("a@example.com", second, "delivered"),
            ("a@example.com", first, "clicked"),
        ]
    ):
        assert api.mailgun(mailgun_event(event, address, message_id=mid, at=t + n)).status == 200
    everything, _ = walk(api, "/v1/events?limit=3")
    assert [e["event"] for e in everything] == ["clicked", "delivered", "opened", "delivered"]
    for_a, _ = walk(api, "/v1/events?recipient=A@example.com&limit=1")
    assert [e["event"] for e in for_a] == ["clicked", "delivered", "delivered"]
    for_first, _ = walk(api, f"/v1/events?message_id={first}&limit=2")
    assert [e["event"] for e in for_first] == ["clicked", "opened", "delivered"]
    oldest_first, _ = walk(api, "/v1/events?order=asc")
    assert [e["event"] for e in oldest_first] == ["delivered", "opened", "delivered", "clicked"]
    searched, _ = walk(api, "/v1/events?q=b@example")
    assert [e["recipient"] for e in searched] == ["b@example.com"]


def test_message_detail_pages_recipients(api):
    message_id = api.record(recipients=[{"address": f"p{n}@example.com"} for n in range(12)])
    detail = api.get(f"/v1/messages/{message_id}?limit=5").json
    seen = [r["address"] for r in detail["recipients"]]
    while detail["next_cursor"]:
        detail = api.get(f"/v1/messages/{message_id}?limit=5&cursor={detail['next_cursor']}").json
        seen += [r["address"] for r in detail["recipients"]]
    assert sorted(seen) == sorted(f"p{n}@example.com" for n in range(12)) and len(seen) == 12


@pytest.mark.parametrize("message_id", ["01JAAAAAAAAAAAAAAAAAAAAAAA", "nope", "x" * 300])
def test_unknown_message_is_404(api, message_id):
    reply = api.get(f"/v1/messages/{message_id}")
    assert reply.status in (404, 400) and reply.headers["content-type"] == "application/problem+json"
