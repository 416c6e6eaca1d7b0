"""PATCH /v1/messages/{id}: a scheduled message goes out, moves or is canceled; canceling cancels its
recipients still pending (as webhooks would, by precedence), counts each failure once, and is audited."""

from __future__ import annotations

from msglog import lifecycle
from tests.support import mailgun_event, token

WRITER = token(rights=["messages:write"], sub="sender-1", org_units=["school-1"])
READER = token(rights=["logs:sent", "logs:recipient:any-sender"])
AUDITOR = token(rights=["logs:audit"])
STATS = token(rights=["stats:read"])
ADDRESSES = ("a@example.com", "b@example.com", "c@example.com")


def scheduled(api, addresses=ADDRESSES, org_unit="school-1"):
    return api.record(channel="email", org_unit=org_unit, status="scheduled", subject="Field trip",
                      created_at="2026-03-10T12:00:00Z", scheduled_at="2026-03-12T08:00:00Z",
                      recipients=[{"address": a} for a in addresses])


def patch(api, message_id, body, auth=WRITER):
    return api.call("PATCH", f"/v1/messages/{message_id}", body, auth=auth)


def detail(api, message_id):
    reply = api.get(f"/v1/messages/{message_id}", auth=READER)
    assert reply.status == 200, reply.raw
    return reply.json


def recipients(api, message_id):
    return {r["address"]: r["status"] for r in detail(api, message_id)["recipients"]}


def test_a_scheduled_message_goes_out_and_the_sent_log_shows_it(api):
    message_id = scheduled(api)
    reply = patch(api, message_id, {"status": "sent"})
    assert reply.status == 200, reply.raw
    assert detail(api, message_id)["status"] == "sent"
    by_status = api.get("/v1/messages?sort=status&from=2026-03-01T00:00:00Z&to=2026-03-31T00:00:00Z",
                        auth=READER).json["items"]
    assert [(i["message_id"], i["status"]) for i in by_status] == [(message_id, "sent")]


def test_a_scheduled_time_moves_while_scheduled(api):
    message_id = scheduled(api)
    reply = patch(api, message_id, {"scheduled_at": "2026-03-13T09:30:00Z"})
    assert reply.status == 200, reply.raw
    shown = detail(api, message_id)
    assert (shown["status"], shown["scheduled_at"]) == ("scheduled", "2026-03-13T09:30:00.000000Z")


def test_canceling_cancels_pending_recipients_only_and_counts_each_failure_once(api):
    api.setup_tenant("acme")
    message_id = scheduled(api)
    api.mailgun(mailgun_event("delivered", "b@example.com", message_id=message_id))  # it left already
    first = patch(api, message_id, {"status": "canceled"})
    assert first.status == 200, first.raw
    assert (first.json["status"], first.json["recipients_canceled"], first.json["complete"]) == ("canceled", 2, True)
    assert recipients(api, message_id) == {"a@example.com": "canceled", "b@example.com": "delivered",
                                           "c@example.com": "canceled"}
    again = patch(api, message_id, {"status": "canceled"})  # a repeat changes nothing more
    assert (again.status, again.json["recipients_canceled"]) == (200, 0)
    totals = api.get("/v1/stats?from=2026-03-01T00:00:00Z&to=2026-03-31T00:00:00Z", auth=STATS).json
    assert totals["totals"]["email"]["failed"] == 2


def test_a_cancel_that_runs_out_of_time_answers_202_and_a_repeat_finishes(api, monkeypatch):
    message_id = scheduled(api)
    monkeypatch.setattr(lifecycle, "CANCEL_SECONDS", 0.0)  # no time left for any page of recipients
    cut = patch(api, message_id, {"status": "canceled"})
    assert (cut.status, cut.json["complete"], cut.json["recipients_canceled"]) == (202, False, 0)
    assert set(recipients(api, message_id).values()) == {"scheduled"}
    monkeypatch.undo()
    done = patch(api, message_id, {"status": "canceled"})
    assert (done.status, done.json["complete"], done.json["recipients_canceled"]) == (200, True, 3)
    assert set(recipients(api, message_id).values()) == {"canceled"}


def test_only_a_scheduled_message_changes(api):
    message_id = scheduled(api)
    assert patch(api, message_id, {"status": "queued"}).status == 200
    for body in ({"status": "sent"}, {"status": "canceled"}, {"scheduled_at": "2026-03-14T00:00:00Z"}):
        reply = patch(api, message_id, body)
        assert reply.status == 409 and "status" in reply.fields, (body, reply.raw)
    assert detail(api, message_id)["status"] == "queued"


def test_bad_input_names_the_field_and_changes_nothing(api):
    message_id = scheduled(api)
    for body, field in (({"status": "delivered"}, "status"), ({"scheduled_at": "tomorrow"}, "scheduled_at"),
                        ({}, "status")):
        reply = patch(api, message_id, body)
        assert reply.status == 400 and any(field in f for f in reply.fields), (body, reply.raw)
    assert detail(api, message_id)["status"] == "scheduled"


def test_other_org_units_and_unknown_messages_are_not_found(api):
    theirs = scheduled(api, org_unit="school-2")
    assert patch(api, theirs, {"status": "canceled"}).status == 404
    assert patch(api, "01JBADBADBADBADBADBADBADBA", {"status": "canceled"}).status == 404
    assert patch(api, theirs, {"status": "canceled"}, auth=READER).status == 403
    assert detail(api, theirs)["status"] == "scheduled"


def test_every_change_is_audited(api):
    message_id = scheduled(api)
    patch(api, message_id, {"scheduled_at": "2026-03-13T09:30:00Z"})
    patch(api, message_id, {"status": "canceled"})
    entries = api.get(f"/v1/audit?entity=message:{message_id}&order=asc", auth=AUDITOR).json["items"]
    assert [(e["action"], e["actor"]["id"], e["details"]["status"]) for e in entries] == [
        ("message.changed", "sender-1", "scheduled"), ("message.changed", "sender-1", "canceled")]
    assert entries[0]["details"]["scheduled_at"] == "2026-03-13T09:30:00.000000Z"
