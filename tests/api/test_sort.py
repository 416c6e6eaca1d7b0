"""sort=recipient|status where a view can do it with bounded cost (README: sort per view), 400 elsewhere. The sent
log's own sorts (any size of range): tests/api/test_sent_sort.py."""

from __future__ import annotations

import time

import pytest

from tests.support import all_pages, mailgun_event, token

WRITER = token(rights=["messages:write"], sub="sender-1")



def bounce(address, message_id, at):
    """Mailgun says "failed", permanent: the status `bounced`."""
    return mailgun_event("failed", address, message_id=message_id, at=at, severity="permanent", reason="bounce")


@pytest.fixture
def family(api):
    """Six messages to family F1 (two addresses), each left in another status by its provider events."""
    api.setup_tenant("acme")
    recorded = []
    t = time.time()
    for n, (address, event) in enumerate([("mum@example.com", "delivered"), ("kid@example.com", "bounced"),
                                          ("mum@example.com", None), ("kid@example.com", "opened"),
                                          ("kid@example.com", "delivered"), ("mum@example.com", "clicked")]):
        reply = api.post("/v1/messages", {"channel": "email", "subject": f"M{n}", "recipients": [
            {"address": address, "family_id": "F1", "person_id": "P-" + address[:3], "role": "student"}]}, auth=WRITER)
        message_id = reply.json["message_id"]
        if event:
            api.mailgun(bounce(address, message_id, t + n) if event == "bounced"
                        else mailgun_event(event, address, message_id=message_id, at=t + n))
        recorded.append((f"M{n}", address, event or "queued"))
    return recorded


def test_the_family_log_sorts_by_status_in_precedence_order(api, family):
    items, examined = all_pages(api, "/v1/recipients/family:F1/messages?sort=status&limit=2")
    assert [(i["status"], i["subject"]) for i in items] == [  # highest rank first, then newest first
        ("clicked", "M5"), ("opened", "M3"), ("bounced", "M1"), ("delivered", "M4"), ("delivered", "M0"),
        ("queued", "M2")]
    assert examined == 6 * 3  # each page reads the range (6 deliveries) again
    ascending, _ = all_pages(api, "/v1/recipients/family:F1/messages?sort=status&order=asc&limit=4")
    assert [i["subject"] for i in ascending] == ["M2", "M0", "M4", "M1", "M3", "M5"]


def test_the_family_log_sorts_by_recipient(api, family):
    items, _ = all_pages(api, "/v1/recipients/family:F1/messages?sort=recipient&order=asc&limit=5")
    assert [(i["address"], i["subject"]) for i in items] == [
        ("kid@example.com", "M1"), ("kid@example.com", "M3"), ("kid@example.com", "M4"),
        ("mum@example.com", "M0"), ("mum@example.com", "M2"), ("mum@example.com", "M5")]
    sms_or_status, _ = all_pages(api, "/v1/recipients/family:F1/messages?sort=recipient&status=delivered")
    assert [i["subject"] for i in sms_or_status] == ["M0", "M4"]  # filters still apply; desc: mum first


def test_a_sorted_cursor_is_bound_to_its_sort(api, family):
    cursor = api.get("/v1/recipients/family:F1/messages?sort=status&limit=2").json["next_cursor"]
    assert api.get(f"/v1/recipients/family:F1/messages?sort=status&limit=2&cursor={cursor}").status == 200
    for other in (
        "sort=date&limit=2",
        "sort=recipient&limit=2",
        "sort=status&limit=3",
        "sort=status&order=asc&limit=2",
    ):
        assert api.get(f"/v1/recipients/family:F1/messages?{other}&cursor={cursor}").fields == ["cursor"], other


def test_a_sort_over_more_items_than_its_bound_is_refused(api_with):
    api = api_with(SORT_MAX_ITEMS="3")
    for n in range(4):
        api.record(subject=f"S{n}", recipients=[{"address": "pat@example.com"}])
    reply = api.get("/v1/recipients/pat@example.com/messages?sort=status")
    assert reply.status == 400 and reply.fields == ["sort"] and "narrow from/to" in reply.json["detail"]
    assert api.get("/v1/recipients/pat@example.com/messages?sort=date").status == 200  # key order: any size
    first = api.get("/v1/messages?limit=1").json["items"][0]["created_at"]
    narrowed = api.get(f"/v1/recipients/pat@example.com/messages?sort=status&from={first.replace('Z', '%2B00:00')}")
    assert narrowed.status == 200 and len(narrowed.json["items"]) == 1


@pytest.mark.parametrize("path", ["/v1/activity?sort=status", "/v1/audit?sort=recipient",
                                  "/v1/panel-log?sort=status", "/v1/logins?sort=status", "/v1/api-log?sort=status",
                                  "/v1/ingestion-log?sort=recipient", "/v1/transactions?sort=status"])
def test_views_that_cannot_sort_so_say_which_field(api, path):
    reply = api.get(path)
    assert reply.status == 400 and reply.fields == ["sort"], reply.json
    assert "sorts by date" in reply.json["errors"][0]["message"]


def test_the_sent_log_sorts_by_status_and_the_event_log_by_recipient_and_event(api):
    api.setup_tenant("acme")
    sent = api.record(subject="sent", recipients=[{"address": "b@example.com"}, {"address": "a@example.com"}])
    api.record(subject="later", status="scheduled", scheduled_at="2030-01-01T00:00:00Z")
    items, _ = all_pages(api, "/v1/messages?sort=status&order=asc")
    assert [i["status"] for i in items] == ["scheduled", "sent"]
    t = time.time()
    for n, (address, event) in enumerate([("b@example.com", "delivered"), ("a@example.com", "opened"),
                                          ("b@example.com", "clicked")]):
        api.mailgun(mailgun_event(event, address, message_id=sent, at=t + n))
    by_recipient, _ = all_pages(api, "/v1/events?sort=recipient&order=asc&limit=1")
    assert [(e["recipient"], e["event"]) for e in by_recipient] == [
        ("a@example.com", "opened"), ("b@example.com", "delivered"), ("b@example.com", "clicked")]
    by_event, _ = all_pages(api, "/v1/events?sort=status")
    assert [e["event"] for e in by_event] == ["clicked", "opened", "delivered"]


def test_the_message_detail_sorts_its_recipients(api):
    api.setup_tenant("acme")
    message_id = api.record(recipients=[{"address": f"p{n}@example.com"} for n in range(5)])
    t = time.time()
    for n, event in [(3, "clicked"), (1, "bounced"), (4, "delivered")]:
        api.mailgun(bounce(f"p{n}@example.com", message_id, t + n) if event == "bounced"
                    else mailgun_event(event, f"p{n}@example.com", message_id=message_id, at=t + n))

    def recipients(query):
        detail = api.get(f"/v1/messages/{message_id}?limit=2&{query}").json
        seen = [r["address"] for r in detail["recipients"]]
        while detail["next_cursor"]:
            detail = api.get(f"/v1/messages/{message_id}?limit=2&{query}&cursor={detail['next_cursor']}").json
            seen += [r["address"] for r in detail["recipients"]]
        return seen

    assert recipients("") == [f"p{n}@example.com" for n in range(5)]  # by recipient (the key), a to z
    assert recipients("order=desc") == [f"p{n}@example.com" for n in reversed(range(5))]
    assert recipients("sort=status&order=desc") == ["p3@example.com", "p1@example.com", "p4@example.com",
                                                    "p2@example.com", "p0@example.com"]
    assert recipients("sort=date&order=desc")[:3] == ["p4@example.com", "p3@example.com", "p1@example.com"]
    assert api.get(f"/v1/messages/{message_id}?sort=colour").fields == ["sort"]


def test_a_narrow_right_sorts_only_what_it_sees(api):
    for sender in ("sender-1", "sender-2"):
        api.post("/v1/messages", {"channel": "email", "subject": sender, "sender": {"id": sender}, "recipients": [
            {"address": "kid@example.com", "role": "student"}, {"address": "mum@example.com", "role": "guardian"}]},
            auth=token(rights=["messages:write"], sub=sender))
    teacher = token(rights=["logs:recipient"], sub="sender-1")
    items, _ = all_pages(api, "/v1/recipients/kid@example.com/messages?sort=status", auth=teacher)
    assert [i["subject"] for i in items] == ["sender-1"]
    items, _ = all_pages(api, "/v1/recipients/mum@example.com/messages?sort=recipient", auth=teacher)
    assert items == []


@pytest.fixture
def events(api_with):
    """Two messages' events (three recipients with person ids, subjects told apart by case), the bound at 8."""
    api = api_with(SORT_MAX_ITEMS="8")
    api.setup_tenant("acme")
    t = time.time()
    first = api.record(subject="bus delay", recipients=[
        {"address": "cy@example.com", "person_id": "p-30"}, {"address": "al@example.com", "person_id": "P-10"},
        {"address": "bo@example.com", "person_id": "p-20"}])
    second = api.record(subject="Absence", recipients=[{"address": "al@example.com", "person_id": "P-10"}])
    for n, (address, message_id, event) in enumerate([
            ("cy@example.com", first, "delivered"), ("al@example.com", first, "delivered"),
            ("bo@example.com", first, "opened"), ("al@example.com", second, "delivered"),
            ("al@example.com", first, "opened"), ("al@example.com", second, "clicked")]):
        api.mailgun(mailgun_event(event, address, message_id=message_id, at=t + n,
                                  subject="bus delay" if message_id == first else "Absence"))
    return api, first, second


def test_the_event_log_sorts_by_person_and_subject_within_a_message_or_a_recipient(events):
    api, first, _ = events
    in_message, _ = all_pages(api, f"/v1/events?sort=person_id&order=asc&limit=2&message_id={first}")
    assert [(e["person_id"], e["event"]) for e in in_message] == [
        ("P-10", "delivered"), ("P-10", "opened"), ("p-20", "opened"), ("p-30", "delivered")]
    descending, _ = all_pages(api, f"/v1/events?sort=person_id&order=desc&limit=3&message_id={first}")
    assert [(e["person_id"], e["event"]) for e in descending] == [
        ("p-30", "delivered"), ("p-20", "opened"), ("P-10", "opened"), ("P-10", "delivered")]
    by_subject, _ = all_pages(api, "/v1/events?sort=subject&order=asc&limit=2&recipient=al@example.com")
    assert [(e["subject"], e["event"]) for e in by_subject] == [
        ("Absence", "delivered"), ("Absence", "clicked"), ("bus delay", "delivered"), ("bus delay", "opened")]


def test_the_event_log_sorts_a_narrow_range_and_refuses_a_wider_one_naming_sort(events):
    api, _, _ = events
    everything, _ = all_pages(api, "/v1/events?sort=subject&order=desc&limit=4")  # 6 events: within the bound
    assert [e["subject"] for e in everything] == ["bus delay"] * 4 + ["Absence"] * 2
    for n in range(3):  # 9 events: more than the bound of 8
        api.mailgun(mailgun_event("clicked", "bo@example.com", at=time.time() + 10 + n))
    reply = api.get("/v1/events?sort=person_id")
    assert reply.status == 400 and reply.fields == ["sort"]
    assert "message_id" in reply.json["detail"] and "narrow from/to" in reply.json["errors"][0]["message"]
    assert api.get("/v1/events?sort=colour").fields == ["sort"]


def test_search_matches_any_text_a_row_shows(api):
    api.setup_tenant("acme")
    first = api.record(subject="Bus delay", org_unit="lincoln-high",
                       sender={"id": "tch-41", "name": "Matthews, Dexter"}, schedule_id="sched-77",
                       recipients=[{"address": "Kid@Example.com", "name": "Kid, Jo", "role": "student"}])
    second = api.record(
        subject="Other", org_unit="west", recipients=[{"address": "kid@example.com", "name": "Kid, Jo"}]
    )
    for q, subjects in [("lincoln", ["Bus delay"]), ("dexter", ["Bus delay"]), ("SCHED-77", ["Bus delay"]),
                        ("TCH-41", ["Bus delay"])]:  # (no ULID or timestamp holds "tch")
        items, _ = all_pages(api, f"/v1/messages?q={q}")
        assert [i["subject"] for i in items] == subjects, q
    for q, subjects in [("west", ["Other"]), ("student", ["Bus delay"]), ("kid, jo", ["Other", "Bus delay"])]:
        items, _ = all_pages(api, f"/v1/recipients/kid@example.com/messages?q={q}")
        assert [i["subject"] for i in items] == subjects, q
    t = time.time()
    api.mailgun(mailgun_event("failed", "kid@example.com", message_id=first, at=t, severity="temporary",
                              reason="generic", **{"delivery-status": {"message": "Mailbox full"}}))
    api.mailgun(mailgun_event("delivered", "kid@example.com", message_id=second, at=t + 1))
    for q, count in [("mailbox", 1), ("mailgun", 2)]:  # the reason; the provider
        items, _ = all_pages(api, f"/v1/events?q={q}")
        assert len(items) == count, (q, items)
