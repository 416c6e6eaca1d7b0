"""The sent log sorts by every column of the contract, both orders, at any size of date range (issue 18)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support import all_pages, token

BASE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SUBJECTS = ["Bus delay", "bus delay", "Absence", "absence notice", "Zoo trip", "Ab", "Ab c", "Abc", "Éclair day"]
STATUSES = ["sent", "scheduled", "error", "canceled"]
STATUS_ORDER = {"scheduled": 0, "sent": 1, "canceled": 2, "error": 3}  # precedence (1, 2, 5, 5), then the name
UNITS = ["north", "south", "west"]
SENDERS = [{"id": "u9", "name": "Young, Ann"}, {"id": "u1", "name": "adams, Bo"}, {"id": "u5"}]



def stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "%2B00:00")


@pytest.fixture
def sent(api_with):
    """36 messages over 36 hours, every column varied (case, accents, missing values, numeric ids), four feed shards.
    Pages examine at most 5 items a shard (PAGE_BUDGET), so filters and paging resume mid-shard."""
    api = api_with(SORT_MAX_ITEMS="10", PAGE_BUDGET="5")
    api.setup_tenant("acme")
    recorded = []
    for n in range(36):
        status = STATUSES[n % 4]
        message = {"channel": "email" if n % 5 else "sms", "subject": SUBJECTS[n % len(SUBJECTS)] if n % 7 else None,
                   "category": ["Attendance", "alerts", None][n % 3], "org_unit": UNITS[n % 3],
                   "sender": SENDERS[n % 3], "created_at": (BASE + timedelta(hours=n)).isoformat(), "status": status,
                   "schedule_id": [None, "9", "10", "100", "s-2"][n % 5], "recipients": []}
        if status == "scheduled" or n % 6 == 0:
            message["scheduled_at"] = (BASE + timedelta(days=30, minutes=(n * 37) % 100)).isoformat()
        reply = api.post("/v1/messages", message, auth=token(rights=["messages:write"], sub="writer"))
        assert reply.status == 201, reply.json
        recorded.append({**message, "message_id": reply.json["message_id"]})
    return api, recorded


def _text(value):
    return (value or "").casefold()


# What each sort orders by, written out here (not taken from the service): the value, then the message id.
EXPECTED = {
    "created_at": lambda m: ("", m["message_id"]),
    "date": lambda m: ("", m["message_id"]),
    "scheduled_at": lambda m: (m.get("scheduled_at") and datetime.fromisoformat(m["scheduled_at"]).isoformat() or "",
                               m["message_id"]),
    "status": lambda m: (STATUS_ORDER[m["status"]], m["message_id"]),
    "category": lambda m: (_text(m["category"]), m["message_id"]),
    "org_unit": lambda m: (_text(m["org_unit"]), m["message_id"]),
    "subject": lambda m: (_text(m["subject"]), m["message_id"]),
    "sender": lambda m: (_text(m["sender"].get("name") or m["sender"]["id"]), m["message_id"]),
    "schedule_id": lambda m: ((0, int(m["schedule_id"])) if (m["schedule_id"] or "").isdigit()
                              else (-1, 0) if not m["schedule_id"] else (1, m["schedule_id"]), m["message_id"]),
}


def expected(recorded, sort, order, keep=lambda m: True):
    return [m["message_id"] for m in sorted(filter(keep, recorded), key=EXPECTED[sort], reverse=order == "desc")]


@pytest.mark.parametrize("sort", [name for name in EXPECTED if name != "date"])
def test_every_column_sorts_both_ways_over_a_range_larger_than_the_old_bound(sent, sort):
    api, recorded = sent
    for order in ("asc", "desc"):
        items, examined = all_pages(api, f"/v1/messages?sort={sort}&order={order}&limit=7")
        assert [i["message_id"] for i in items] == expected(recorded, sort, order), (sort, order)
        assert examined >= len(recorded)


def test_subjects_order_case_and_prefixes_as_a_reader_expects(sent):
    api, _ = sent
    items, _ = all_pages(api, "/v1/messages?sort=subject&order=asc&limit=50")
    subjects = [i["subject"] for i in items if i["subject"]]
    firsts = list(dict.fromkeys(s.casefold() for s in subjects))
    assert firsts == ["ab", "ab c", "abc", "absence", "absence notice", "bus delay", "zoo trip", "éclair day"]
    assert [i["subject"] for i in items][0] is None  # no subject sorts first ascending


def test_org_unit_scope_filters_and_a_date_range_apply_to_a_sorted_log(sent):
    api, recorded = sent
    north_south = token(rights=["logs:sent"], org_units=["north", "south"], sub="viewer")
    items, _ = all_pages(api, "/v1/messages?sort=subject&order=desc&limit=4", auth=north_south)
    assert [i["message_id"] for i in items] == expected(recorded, "subject", "desc",
                                                          lambda m: m["org_unit"] in ("north", "south"))

    start, end = BASE + timedelta(hours=5), BASE + timedelta(hours=27)
    in_range = lambda m: start <= datetime.fromisoformat(m["created_at"]) <= end  # noqa: E731
    items, _ = all_pages(api, f"/v1/messages?sort=sender&order=asc&limit=3&from={stamp(start)}&to={stamp(end)}")
    assert [i["message_id"] for i in items] == expected(recorded, "sender", "asc", in_range)

    items, _ = all_pages(api, "/v1/messages?sort=scheduled_at&order=desc&limit=2&status=scheduled&category=ATTENDANCE")
    assert [i["message_id"] for i in items] == expected(
        recorded, "scheduled_at", "desc", lambda m: m["status"] == "scheduled" and m["category"] == "Attendance")
    assert items


def test_a_filter_on_the_sorted_column_reads_only_its_rows(sent):
    api, recorded = sent
    items, examined = all_pages(api, "/v1/messages?sort=status&order=asc&limit=50&status=Error")
    errors = expected(recorded, "status", "asc", lambda m: m["status"] == "error")
    assert [i["message_id"] for i in items] == errors
    assert examined < len(recorded) // 2  # a key condition: the other statuses' rows are not read
    items, _ = all_pages(api, "/v1/messages?sort=category&order=desc&limit=2&category=alerts&org_unit=west")
    assert [i["message_id"] for i in items] == expected(
        recorded, "category", "desc", lambda m: m["category"] == "alerts" and m["org_unit"] == "west")


def test_a_sorted_cursor_is_bound_to_its_sort_and_order(sent):
    api, _ = sent
    cursor = api.get("/v1/messages?sort=subject&limit=2").json["next_cursor"]
    assert api.get(f"/v1/messages?sort=subject&limit=2&cursor={cursor}").status == 200
    for other in ("sort=sender&limit=2", "sort=date&limit=2", "sort=subject&order=asc&limit=2"):
        assert api.get(f"/v1/messages?{other}&cursor={cursor}").fields == ["cursor"], other


def test_the_sent_log_refuses_a_sort_outside_the_contract(api):
    reply = api.get("/v1/messages?sort=recipient")
    assert reply.status == 400 and reply.fields == ["sort"]
    assert "'subject'" in reply.json["errors"][0]["message"]


def test_more_than_a_thousand_messages_sort_in_both_orders_with_the_default_bounds(api):
    """1,030 messages and their copies, as msglog.messages.record writes them (META, then sent_sorts.save) but
    straight into the table: moto copies the whole table for each transaction, which recording them one by one
    through the API would cost. The bounds are production's."""
    from msglog import fanout, keys, sent_sorts
    from msglog.clock import iso
    from msglog.ids import new_ulid
    from msglog.models import Message

    recorded, metas, copies = [], [], []
    for n in range(1030):
        created = BASE + timedelta(minutes=n)
        message_id = new_ulid(created)
        meta = Message(
            keys.message_pk("acme", message_id),
            keys.META_SK,
            message_id=message_id,
            channel="email",
            subject=f"Notice {(n * 7919) % 1000:03d}",
            org_unit=UNITS[n % 3],
            sender=SENDERS[0],
            created_at=iso(created),
            status="sent",
            gsi1pk=keys.sent_feed_pk("acme", keys.shard_of(message_id, 4)),
            gsi1sk=message_id,
        )
        metas.append(meta)
        copies += [c for c in sent_sorts.copies("acme", meta, 4) if c.sk == keys.sent_sort_item_sk("subject")]
        recorded.append({"subject": meta.subject, "message_id": message_id})
    fanout.save_all(Message, metas)
    fanout.save_all(Message, copies)
    for order in ("asc", "desc"):
        items, _ = all_pages(api, f"/v1/messages?sort=subject&order={order}&limit=200")
        assert [i["message_id"] for i in items] == expected(recorded, "subject", order), order


def test_messages_recorded_before_the_index_get_their_copies_from_the_operator_command(api):
    from msglog import keys
    from msglog.models import SortedMessage

    recorded = [{"subject": f"S{n % 4}", "message_id": api.record(subject=f"S{n % 4}", recipients=[])}
                for n in range(9)]
    for m in recorded:  # as before gsi7: META only
        for column in keys.SENT_SORT_COLUMNS:
            SortedMessage(keys.message_pk("acme", m["message_id"]), keys.sent_sort_item_sk(column)).delete()
    assert all_pages(api, "/v1/messages?sort=subject")[0] == []
    after, calls = None, 0
    while True:
        done = api.gateway.runtime.invoke("OperationsFunction", {"command": "index-sent-sorts", "tenant": "acme",
                                                                 "limit": 2, "after": after})
        calls += 1
        if not (after := done["next"]):
            break
    assert calls >= 5
    items, _ = all_pages(api, "/v1/messages?sort=subject&order=asc&limit=4")
    assert [i["message_id"] for i in items] == expected(recorded, "subject", "asc")
