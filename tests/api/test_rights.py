"""Each right opens exactly its views (SPEC: Rights), scoped to the caller's org units."""

from __future__ import annotations

import pytest

from tests.support import mailgun_event, token

ROUTES = {
    "sent": "/v1/messages",
    "events": "/v1/events",
    "recipient": "/v1/recipients/kid@example.com/messages",
    "settings": "/v1/tenant",
    "ingestion": "/v1/ingestion-log",
    "ingestion-health": "/v1/ingestion-health",
    "suppressions": "/v1/suppressions",
    "activity": "/v1/activity",
    "audit": "/v1/audit",
    "panel": "/v1/panel-log",
    "logins": "/v1/logins",
    "api": "/v1/api-log",
    "stats": "/v1/stats",
    "transactions": "/v1/transactions",
}
OPENS = {  # right → the views it opens (admin opens all)
    "logs:sent": {"sent"},
    "logs:provider": {"events"},
    "logs:recipient": {"recipient"},
    "logs:recipient:any-sender": {"recipient"},
    "logs:email:family": {"recipient"},
    "logs:email:staff": {"recipient"},
    "logs:sms:family": {"recipient"},
    "logs:sms:staff": {"recipient"},
    "logs:push": {"recipient"},
    "messages:write": set(),
    "events:write": set(),
    "people:all": set(),
    "logs:recipient-fields": set(),
    "stats:read": {"stats", "transactions"},
    "suppressions:read": {"suppressions"},
    "suppressions:write": {"suppressions"},
    "logs:audit": {"audit"},
    "logs:activity": {"activity"},
    "logs:panel": {"panel"},
    "logs:logins": {"logins"},
    "logs:api": {"api"},
    "logs:ingestion": {"ingestion", "ingestion-health"},
    "admin": set(ROUTES),
}


@pytest.mark.parametrize("right", sorted(OPENS))
def test_each_right_opens_exactly_its_views(api, right):
    caller = token(rights=[right])
    for view, path in ROUTES.items():
        reply = api.get(path, auth=caller)
        expected = 200 if view in OPENS[right] else 403
        assert reply.status == expected, (right, view, reply.json)


WRITES = {  # POST routes and a valid body each: only events:write (and admin) may post them
    "/v1/activity": {"action": "enrolment requested", "entity": "family:F1"},
    "/v1/audit": {"action": "student.updated", "entity": "student:P1"},
    "/v1/panel-log": {"url": "/students/P1", "method": "GET"},
    "/v1/logins": {"user": {"id": "u-ann"}, "status": "success"},
}


@pytest.mark.parametrize("right", sorted(OPENS))
def test_only_events_write_posts_records(api, right):
    for path, body in WRITES.items():
        reply = api.post(path, body, auth=token(rights=[right]))
        assert reply.status == (201 if right in ("events:write", "admin") else 403), (right, path, reply.json)


@pytest.mark.parametrize("right", sorted(OPENS))
def test_only_admin_erases_a_person(api, right):
    """DELETE /v1/people/{id}: admin only (the person here is unknown: 404 once the right is there)."""
    reply = api.call("DELETE", "/v1/people/P1", auth=token(rights=[right]))
    assert reply.status == (404 if right == "admin" else 403), (right, reply.json)


def test_no_rights_and_no_token(api):
    assert all(api.get(p, auth=token(rights=[])).status == 403 for p in ROUTES.values())
    assert all(api.get(p, auth=None).status == 401 for p in ROUTES.values())


@pytest.fixture
def school(api):
    """Two schools; messages from two senders to a student, a guardian and a staff member."""
    api.setup_tenant("acme")
    writer = token(rights=["messages:write"])
    people = [{"address": "kid@example.com", "person_id": "P1", "family_id": "F1", "role": "student",
               "fields": {"student.firstname": "Kid"}},
              {"address": "mum@example.com", "person_id": "P2", "family_id": "F1", "role": "guardian"},
              {"address": "teacher@example.com", "person_id": "S1", "role": "staff"}]
    ids = {}
    for name, sender, org_unit, channel in [
        ("mine", "u-me", "school-1", "email"),
        ("theirs", "u-other", "school-1", "email"),
        ("elsewhere", "u-me", "school-2", "email"),
        ("sms", "u-other", "school-1", "sms"),
    ]:
        recipients = people if channel == "email" else [
            {"address": "+15550100001", "person_id": "P1", "family_id": "F1", "role": "student"},
            {"address": "+15550100003", "person_id": "S1", "role": "staff"}]
        body = {
            "channel": channel,
            "org_unit": org_unit,
            "sender": {"id": sender},
            "subject": name,
            "recipients": recipients,
        }
        ids[name] = api.post("/v1/messages", body, auth=writer).json["message_id"]
    api.mailgun(mailgun_event("delivered", "kid@example.com", message_id=ids["mine"]))
    return ids


def subjects(api, path, caller):
    reply = api.get(path, auth=caller)
    assert reply.status == 200, reply.json
    return sorted(i["subject"] for i in reply.json["items"])


def test_plain_recipient_right_shows_own_messages_to_students(api, school):
    """Seed 000: 'only messages sent by the user, to students'."""
    me = token(rights=["logs:recipient"], sub="u-me")
    assert subjects(api, "/v1/recipients/kid@example.com/messages", me) == ["elsewhere", "mine"]
    assert subjects(api, "/v1/recipients/mum@example.com/messages", me) == []
    assert subjects(api, "/v1/recipients/family:F1/messages", me) == ["elsewhere", "mine"]
    everyone = token(rights=["logs:recipient:any-sender", "people:all"], sub="u-me")
    assert subjects(api, "/v1/recipients/family:F1/messages", everyone) == ["elsewhere", "elsewhere", "mine", "mine",
                                                                            "sms", "theirs", "theirs"]


def test_per_channel_rights(api, school):
    family_email = token(rights=["logs:email:family"])
    assert subjects(api, "/v1/recipients/person:P1/messages", family_email) == ["elsewhere", "mine", "theirs"]
    assert subjects(api, "/v1/recipients/person:S1/messages", family_email) == []
    assert api.get("/v1/recipients/person:P1/messages?channel=sms", auth=family_email).status == 403
    staff_sms = token(rights=["logs:sms:staff"])
    assert subjects(api, "/v1/recipients/person:S1/messages?channel=sms", staff_sms) == ["sms"]
    assert subjects(api, "/v1/recipients/person:P1/messages", staff_sms) == []


def test_merge_fields_show_names_without_the_fields_right(api, school):
    without = api.get("/v1/recipients/kid@example.com/messages", auth=token(rights=["logs:email:family"])).json
    with_values = api.get("/v1/recipients/kid@example.com/messages",
                          auth=token(rights=["logs:email:family", "logs:recipient-fields"])).json
    assert without["items"][0]["fields"] == {"student.firstname": "student.firstname"}
    assert with_values["items"][0]["fields"] == {"student.firstname": "Kid"}


def test_org_units_limit_every_view(api, school):
    scoped = token(rights=["logs:sent", "logs:provider", "logs:recipient:any-sender", "people:all"],
                   org_units=("school-2",))
    assert subjects(api, "/v1/messages", scoped) == ["elsewhere"]
    assert subjects(api, "/v1/recipients/kid@example.com/messages", scoped) == ["elsewhere"]
    assert api.get("/v1/events", auth=scoped).json["items"] == []  # the one event is school-1's
    assert api.get(f"/v1/messages/{school['mine']}", auth=scoped).status == 404
    assert api.get(f"/v1/messages/{school['elsewhere']}", auth=scoped).status == 200


def test_message_detail_opens_for_any_right_that_lists_it(api, school):
    assert api.get(f"/v1/messages/{school['mine']}", auth=token(rights=["logs:sent"])).status == 200
    assert api.get(f"/v1/messages/{school['mine']}", auth=token(rights=["logs:provider"])).status == 200
    me = token(rights=["logs:recipient"], sub="u-me")
    detail = api.get(f"/v1/messages/{school['mine']}", auth=me).json
    assert [r["address"] for r in detail["recipients"]] == ["kid@example.com"]  # students only
    assert api.get(f"/v1/messages/{school['theirs']}", auth=me).status == 404  # not the caller's message
    assert api.get(f"/v1/messages/{school['sms']}", auth=token(rights=["logs:email:family"])).status == 404
    assert api.get(f"/v1/messages/{school['mine']}", auth=token(rights=["stats:read"])).status == 403
