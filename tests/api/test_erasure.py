"""DELETE /v1/people/{person_id}: a person's addresses, names, merge values and the bodies only they
received are erased; statuses, events and counts stay, anonymous. Bounded, resumable, audited."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.provision import physical_name
from local.template import ROOT
from tests.support import Faults, mailgun_event, sendgrid_key, sendgrid_post, token

ADMIN = token()
AUDITOR = token(rights=["logs:audit"])
WHEN = "2026-03-10T12:00:00Z"
STATS = "/v1/stats?from=2026-03-01T00:00:00Z&to=2026-03-31T23:59:59Z"
KID = {"address": "Kid.Pupil@Example.com", "person_id": "P1", "family_id": "F1", "role": "student",
       "name": "Pupil, Kiddo", "fields": {"student.firstname": "Kiddo"}}
KID_PHONE = {"address": "+15550100001", "person_id": "P1", "family_id": "F1", "role": "student", "name": "Pupil, Kiddo"}
MUM = {"address": "mum@example.com", "person_id": "P2", "family_id": "F1", "role": "guardian", "name": "Pupil, Mum",
       "fields": {"guardian.name": "Mumsie"}}
TRACES = ("kid.pupil@example.com", "+15550100001", "kiddo", "kid-pm@mg.example")  # casefolded
TEMPLATE = {"text": "Dear {{guardian.name}}, {{student.firstname}}'s report card is ready.", "html": None}
LARGE = {"text": "Timetable. " * 12_000, "html": None}  # ~130 KB: kept in S3


def erase(api, person_id="P1", auth=ADMIN):
    return api.call("DELETE", f"/v1/people/{person_id}", auth=auth)


def view(api, path, auth=ADMIN):
    reply = api.get(path, auth=auth)
    assert reply.status == 200, (path, reply.raw)
    return reply


def traces(reply) -> list[str]:
    """The erased person's address, phone, merge value or provider id, wherever they show in an answer."""
    text = reply.raw.decode().casefold()
    return [trace for trace in TRACES if trace in text]


def detail(api, message_id, auth=ADMIN):
    return view(api, f"/v1/messages/{message_id}", auth).json


def rows(api, message_id):
    """The message's recipients by person: intact rows by person id, erased ones under "erased"."""
    out: dict[str, list[dict]] = {}
    for row in detail(api, message_id)["recipients"]:
        out.setdefault(row["person_id"] or "erased", []).append(row)
    return out


def body_objects():
    return boto3.client("s3").list_objects_v2(Bucket=physical_name("MessageBodies").lower(), Prefix="bodies/")


@pytest.fixture
def school(api):
    """A report card to a student and her mother, a large timetable to the student alone (bounced, the
    provider's reason quoting her address), and an SMS to her alone."""
    api.setup_tenant("acme")
    kid = {**KID, "provider_message_id": "kid-pm@mg.example"}
    ids = {
        "shared": api.record(subject="Report card", body=TEMPLATE, created_at=WHEN, recipients=[kid, MUM]),
        "alone": api.record(subject="Your timetable", body=LARGE, created_at=WHEN, recipients=[KID]),
        "sms": api.record(channel="sms", subject="Bus", body={"text": "The bus leaves at 7."}, created_at=WHEN,
                          recipients=[KID_PHONE]),
    }
    for event in ("delivered", "opened"):
        assert api.mailgun(mailgun_event(event, "kid.pupil@example.com", message_id=ids["shared"])).status == 200
    api.mailgun(mailgun_event("delivered", "mum@example.com", message_id=ids["shared"]))
    api.mailgun(
        mailgun_event(
            "failed",
            "kid.pupil@example.com",
            message_id=ids["alone"],
            severity="permanent",
            reason="bounce",
            **{
                "delivery-status": {
                    "code": 550,
                    "message": "550 5.1.1 <Kid.Pupil@example.com>: Recipient address rejected",
                }
            },
        )
    )
    return ids


def test_the_person_is_gone_from_every_view_and_statuses_and_counts_stay(api, school):
    before = {"stats": view(api, STATS).json, "events": view(api, "/v1/events?order=asc").json["items"],
              "statuses": {name: {r["address"]: r["status"] for r in detail(api, mid)["recipients"]}
                           for name, mid in school.items()}}
    assert body_objects()["KeyCount"] == 1
    reply = erase(api)
    assert reply.status == 200, reply.raw
    assert reply.json == {"person_id": "P1", "erased": 3, "erased_total": 3, "events_erased": 3, "bodies_deleted": 2,
                          "complete": True}
    # the person, their addresses and their family's log: nothing of them
    for path in ["/v1/recipients/person:P1/messages", "/v1/recipients/kid.pupil@example.com/messages",
                 "/v1/recipients/%2B15550100001/messages", "/v1/events?q=kid.pupil",
                 "/v1/events?recipient=kid.pupil@example.com", "/v1/events?q=Kiddo"]:
        assert view(api, path).json["items"] == [], path
    family = view(api, "/v1/recipients/family:F1/messages").json["items"]
    assert [(r["address"], r["name"]) for r in family] == [("mum@example.com", "Pupil, Mum")]
    for path in ["/v1/messages", "/v1/events", "/v1/recipients/family:F1/messages", "/v1/sends", "/v1/sends?format=csv",
                 *[f"/v1/messages/{mid}" for mid in school.values()],
                 "/v1/events?format=csv", "/v1/recipients/family:F1/messages?format=csv", "/v1/messages?format=csv"]:
        assert traces(view(api, path)) == [], path
    sends = view(api, "/v1/sends").json["items"]  # her sends stay in the log, under the pseudonym
    assert sorted(row["address"].startswith("erased:") for row in sends) == [False, True, True, True]
    # statuses, event types and times, and the counts stay, anonymous
    assert view(api, STATS).json == before["stats"]
    after_events = view(api, "/v1/events?order=asc").json["items"]
    assert [(e["event"], e["timestamp"], e["message_id"]) for e in after_events] == \
        [(e["event"], e["timestamp"], e["message_id"]) for e in before["events"]]
    kid_events = [e for e in after_events if e["recipient"] != "mum@example.com"]
    assert len(kid_events) == 3 and all(e["recipient"].startswith("erased:") and e["person_id"] is None
                                        for e in kid_events)
    shared = rows(api, school["shared"])
    [erased], [mum] = shared["erased"], shared["P2"]
    assert (erased["status"], erased["role"], erased["name"], erased["fields"], erased["family_id"]) == \
        (before["statuses"]["shared"]["Kid.Pupil@Example.com"], "student", None, None, None)
    assert erased["address"].startswith("erased:") and erased["erased_at"]
    assert (mum["address"], mum["name"], mum["fields"], "erased_at" in mum) == \
        ("mum@example.com", "Pupil, Mum", {"guardian.name": "Mumsie"}, False)
    [alone] = rows(api, school["alone"])["erased"]
    assert alone["status"] == "bounced" and alone["address"] == erased["address"]  # one pseudonym per address
    assert alone["status_reason"] == f"550 5.1.1 <{alone['address']}>: Recipient address rejected"
    [sms] = rows(api, school["sms"])["erased"]
    assert sms["address"].startswith("erased:") and sms["address"] != erased["address"]
    history = view(api, f"/v1/recipients/{erased['address']}/messages").json["items"]  # anonymous, countable
    assert sorted((r["message_id"], r["status"], r["erased_at"]) for r in history) == sorted([
        (school["shared"], erased["status"], erased["erased_at"]), (school["alone"], "bounced", alone["erased_at"])])
    # a body shared with another recipient stays (the template); the ones only she received go, S3 too
    assert detail(api, school["shared"])["body"] == TEMPLATE
    for name in ("alone", "sms"):
        gone = detail(api, school[name])
        assert gone["body"] is None and gone["body_erased_at"] and gone["body_purged_at"] is None
    assert body_objects()["KeyCount"] == 0
    # the suppression her bounce caused is kept: nobody may e-mail the address again (docs/decisions.md)
    assert api.get("/v1/suppressions/kid.pupil@example.com").status == 200


def naming_her(traces: tuple[str, ...] = TRACES) -> list[dict]:
    """Every item in the table that holds a trace of her (a test may look; no route scans)."""
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=physical_name("Table"))
    items = [item for page in pages for item in page["Items"]]
    return [item for item in items if any(trace in json.dumps(item, default=str).casefold() for trace in traces)]


KEPT_BY_DESIGN = {"ingestion", "record", "suppression"}  # docs/decisions.md, Erasure: what stays, and why
LATE = ["accepted", "delivered", "opened", "clicked", "failed"]
arrival = st.tuples(st.sampled_from(["early", "before", "after"]),  # her message recorded / her erasure
                    st.sampled_from(["trip by id", "trip by provider id", "menu by id", "her mother"]),
                    st.sampled_from(LATE), st.integers(0, 5))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arrivals=st.lists(arrival, max_size=8))
def test_whenever_her_events_arrive_nothing_but_what_is_kept_by_design_names_her(api, arrivals):
    """Events before her messages are recorded (parked), before the erasure, after it: once erased,
    only the ingestion log, her suppression and its audit entries may name her."""
    if not getattr(api, "_ready", False):
        api.setup_tenant("acme")
        api._ready = True
    run = uuid.uuid4().hex[:8]
    her = {"address": f"kid-{run}@example.com", "person_id": f"P-{run}", "name": f"Pupil, K{run}",
           "fields": {"student.firstname": f"K{run}"}}
    mother = {"address": f"mum-{run}@example.com", "person_id": f"M-{run}"}
    provider_id = f"pm-{run}@mg.example"

    def send(phase, ids):
        for _, target, kind, second in [a for a in arrivals if a[0] == phase]:
            if target == "trip by provider id":
                by = {"provider_message_id": provider_id}
            elif not ids:
                continue  # before recording there is no message id to send by
            else:
                by = {"message_id": ids["menu" if target == "menu by id" else "trip"]}
            address = mother["address"] if target == "her mother" else her["address"].upper()
            extra = {"severity": "permanent", "reason": "bounce"} if kind == "failed" else {}
            assert api.mailgun(mailgun_event(kind, address, at=1_773_144_000 + second, **by, **extra)).status == 200

    send("early", {})
    ids = {"trip": api.record(subject="Trip", created_at=WHEN,
                              recipients=[{**her, "provider_message_id": provider_id}, mother]),
           "menu": api.record(subject="Menu", created_at=WHEN, recipients=[her])}
    send("before", ids)
    answers = [erase(api, her["person_id"])]
    while answers[-1].status == 202 and len(answers) < 10:
        answers.append(erase(api, her["person_id"]))
    assert answers[-1].status == 200 and answers[-1].json["erased_total"] == 2, answers[-1].raw
    send("after", ids)
    traces = (her["address"], f"k{run}", provider_id)  # casefolded, as naming_her compares
    assert {item["type"]["S"] for item in naming_her(traces)} <= KEPT_BY_DESIGN
    [mum] = rows(api, ids["trip"])["M-" + run]
    assert (mum["address"], "erased_at" in mum) == (mother["address"], False)


def test_late_provider_events_for_an_erased_delivery_are_dropped_not_stored_under_her_address(api, school):
    assert erase(api).json["complete"] is True
    kept = naming_her()  # what erasure keeps on purpose: her suppression, the ingestion log's old rows
    shown = {mid: detail(api, mid) for mid in school.values()}
    late = [mailgun_event("opened", "kid.pupil@example.com", message_id=school["shared"]),
            mailgun_event("clicked", "Kid.Pupil@example.com", provider_message_id="kid-pm@mg.example")]
    for event in late:
        reply = api.mailgun(event)
        assert (reply.status, reply.json["outcomes"]) == (200, {"NOLOG_ERASED": 1}), reply.raw
    assert naming_her() == kept
    assert {mid: detail(api, mid) for mid in school.values()} == shown  # her anonymous rows as erased
    log = view(api, f"/v1/ingestion-log?outcome=NOLOG_ERASED&limit={len(late)}").json["items"]
    assert sorted(e["event"] for row in log for e in row["events"]) == ["clicked", "opened"]
    assert traces(view(api, "/v1/ingestion-log?outcome=NOLOG_ERASED")) == []
    assert all(set(e) == {"code", "event_id", "event"} for row in log for e in row["events"])
    # her mother's late event, and one for a message not recorded yet, are kept as always
    assert api.mailgun(mailgun_event("opened", "mum@example.com", message_id=school["shared"])).json["outcomes"] \
        == {"LOG_OK": 1}
    early = api.mailgun(mailgun_event("delivered", "kid.pupil@example.com", message_id="01J00000000000000000000000"))
    assert early.json["outcomes"] == {"NOLOG_UNMATCHED": 1}


def test_a_batch_drops_only_the_erased_deliveries_events(api, school):
    private, public = sendgrid_key()
    api.call("PUT", "/v1/providers/sendgrid", {"public_key": public})
    assert erase(api).json["complete"] is True
    kept = naming_her()
    batch = [{"email": address, "event": "open", "timestamp": 1_790_000_000 + n, "sg_event_id": f"late-{n}",
              "message_id": school["shared"]} for n, address in enumerate(["mum@example.com", "Kid.Pupil@Example.com",
                                                                           "mum@example.com"])]
    reply = sendgrid_post(api, private, batch)
    assert reply.status == 200, reply.raw
    assert [e["outcome"] for e in reply.json["events"]] == ["LOG_OK", "NOLOG_ERASED", "LOG_OK"]
    assert naming_her() == kept
    [mum] = rows(api, school["shared"])["P2"]
    assert mum["status"] == "opened"


def test_events_still_waiting_for_her_delivery_are_linked_and_moved_with_it(api, monkeypatch):
    api.setup_tenant("acme")
    early = api.mailgun(mailgun_event("delivered", "kid.pupil@example.com", provider_message_id="kid-pm@mg.example"))
    assert early.json["outcomes"] == {"NOLOG_UNMATCHED": 1}  # before its message: parked under her address
    faults = Faults(monkeypatch)
    faults.fail("BatchGetItem", times=50, after=2)  # recording links waiting events: that read outlasts the retries
    reply = api.post("/v1/messages", {"channel": "email", "subject": "Trip", "created_at": WHEN,
                                      "recipients": [{**KID, "provider_message_id": "kid-pm@mg.example"}]},
                     auth=token(rights=["messages:write"]))
    assert reply.status == 503, reply.raw  # the message itself (written last) is not recorded; her delivery is
    faults.plan.clear()
    [row] = view(api, "/v1/recipients/person:P1/messages").json["items"]
    assert row["status"] == "queued"  # recorded, its early event still waiting
    assert erase(api).json == {"person_id": "P1", "erased": 1, "erased_total": 1, "events_erased": 1,
                               "bodies_deleted": 0, "complete": True}
    assert [item["type"]["S"] for item in naming_her()] == ["ingestion"]  # the early event's row, kept (decisions.md)
    [event] = view(api, "/v1/events").json["items"]  # the waiting event, linked, then moved with her delivery
    assert event["recipient"].startswith("erased:") and event["message_id"] == row["message_id"]
    [erased] = view(api, f"/v1/recipients/{event['recipient']}/messages").json["items"]
    assert (erased["message_id"], erased["status"]) == (row["message_id"], "delivered")


def test_an_event_stored_while_her_delivery_is_being_moved_moves_too(api, school, monkeypatch):
    """A provider event that matches her delivery after the erasure read its events, and changes
    nothing the move checks (an older, lesser event), is stored under her address as the move
    happens: the erasure looks again once its deliveries have moved."""
    from msglog import erasure

    kept = naming_her()
    read_events = erasure._events

    def then_a_late_event(deliveries):
        found = read_events(deliveries)
        if not getattr(then_a_late_event, "done", False):
            then_a_late_event.done = True
            late = mailgun_event("accepted", "kid.pupil@example.com", message_id=school["shared"], at=1_773_144_005)
            assert api.mailgun(late).json["outcomes"] == {"LOG_OK": 1}
        return found

    monkeypatch.setattr(erasure, "_events", then_a_late_event)
    assert erase(api).json["complete"] is True
    added = [item["type"]["S"] for item in naming_her() if item not in kept]
    assert added == ["ingestion"]  # the late event's ingestion-log row (kept, decisions.md); no event under her address
    timeline = view(api, f"/v1/events?message_id={school['shared']}&limit=50").json["items"]
    assert sorted(e["event"] for e in timeline if e["recipient"].startswith("erased:")) == \
        ["accepted", "delivered", "opened"]


def test_a_delivery_an_event_changes_while_it_moves_is_erased_by_the_same_call(api, school, monkeypatch):
    """An event that raises her delivery's status after the erasure read it makes the move lose its
    race; under a burst of events that is the normal case, so the call walks her index again and
    answers 200 complete, instead of leaving the client a 202 to repeat."""
    from msglog import erasure

    read_events = erasure._events
    raised = []

    def then_a_click(deliveries):
        found = read_events(deliveries)
        if not raised:
            click = mailgun_event("clicked", "kid.pupil@example.com", message_id=school["shared"], at=1_773_150_000)
            raised.append(api.mailgun(click).json["outcomes"])
        return found

    monkeypatch.setattr(erasure, "_events", then_a_click)
    answer = erase(api)
    assert raised == [{"LOG_OK": 1}]
    assert (answer.status, answer.json["complete"], answer.json["erased_total"]) == (200, True, 3), answer.raw
    assert {item["type"]["S"] for item in naming_her()} <= KEPT_BY_DESIGN
    [erased] = rows(api, school["shared"])["erased"]
    assert erased["status"] == "clicked"  # the click that raced the move, kept on the anonymous row


def test_each_call_is_audited_without_the_address(api, school):
    erase(api)
    erase(api)
    reply = view(api, "/v1/audit?entity=person:P1&order=asc", AUDITOR)
    assert traces(reply) == []
    first, again = reply.json["items"]
    assert (first["action"], first["actor"]["id"], first["entity"]) == ("person.erased", "u-admin", "person:P1")
    assert {k: first["details"][k] for k in ("erased", "erased_total", "events_erased", "bodies_deleted", "complete")} \
        == {"erased": 3, "erased_total": 3, "events_erased": 3, "bodies_deleted": 2, "complete": True}
    assert (again["details"]["erased"], again["details"]["erased_total"]) == (0, 3)


def test_a_repeat_after_completion_changes_nothing(api, school):
    assert erase(api).status == 200
    shown = {mid: detail(api, mid) for mid in school.values()}
    events = view(api, "/v1/events").json["items"]
    again = erase(api)
    assert (again.status, again.json["erased"], again.json["erased_total"], again.json["complete"]) == (200, 0, 3, True)
    assert {mid: detail(api, mid) for mid in school.values()} == shown  # same pseudonyms, same erased_at
    assert view(api, "/v1/events").json["items"] == events


def test_a_large_erasure_goes_in_bounded_steps_and_a_repeat_carries_on(api_with):
    api = api_with(ERASURE_BATCH_SIZE="2", ERASURE_BUDGET_SECONDS="0")  # one batch of two per call
    api.setup_tenant("acme")
    sent = [api.record(subject=f"Note {n}", created_at=WHEN, recipients=[KID, MUM]) for n in range(5)]
    for message_id in sent:
        api.mailgun(mailgun_event("delivered", "kid.pupil@example.com", message_id=message_id))
    answers = []
    while not answers or answers[-1].status == 202:
        answers.append(erase(api))
        remaining = view(api, "/v1/recipients/person:P1/messages").json["items"]
        assert all(r["address"] == "Kid.Pupil@Example.com" and r["name"] for r in remaining)  # intact, or gone
        assert len(answers) < 10
    assert [(a.status, a.json["erased"], a.json["erased_total"], a.json["complete"]) for a in answers] == [
        (202, 2, 2, False), (202, 2, 4, False), (200, 1, 5, True)]
    assert len({rows(api, mid)["erased"][0]["address"] for mid in sent}) == 1  # one pseudonym across the calls
    assert all(rows(api, mid)["P2"][0]["address"] == "mum@example.com" for mid in sent)
    assert view(api, "/v1/events?q=erased:").json["items"] and not view(api, "/v1/events?q=kid.pupil").json["items"]
    assert (erase(api).status, erase(api).json["erased"]) == (200, 0)
    audited = view(api, "/v1/audit?entity=person:P1&order=asc", AUDITOR).json["items"]
    assert [e["details"]["complete"] for e in audited] == [False, False, True, True, True]


def test_a_throttled_write_midway_answers_503_and_a_repeat_completes(api, monkeypatch):
    api.setup_tenant("acme")
    sent = [api.record(subject=f"Note {n}", body={"text": "Dear {{student.firstname}}"}, created_at=WHEN,
                       recipients=[KID]) for n in range(3)]
    for message_id in sent:
        api.mailgun(mailgun_event("opened", "kid.pupil@example.com", message_id=message_id))
    faults = Faults(monkeypatch)
    faults.fail("TransactWriteItems", times=50, after=1)  # the first delivery moves; the next outlasts the retries
    failed = erase(api)
    assert failed.status == 503 and failed.headers["content-type"] == "application/problem+json", failed.raw
    assert failed.json["code"] == "THROTTLED"
    for message_id in sent:  # each delivery shows intact (with all its events) or erased (with all of them)
        [row] = detail(api, message_id)["recipients"]
        recipients = {e["recipient"] for e in view(api, f"/v1/events?message_id={message_id}").json["items"]}
        if row["address"].startswith("erased:"):
            assert (row["name"], row["fields"], recipients) == (None, None, {row["address"]})
        else:
            assert (row["name"], row["fields"], recipients) == (KID["name"], KID["fields"], {"kid.pupil@example.com"})
    assert sum(detail(api, m)["recipients"][0]["address"].startswith("erased:") for m in sent) == 1
    faults.plan.clear()
    done = erase(api)
    assert (done.status, done.json["erased"], done.json["erased_total"], done.json["complete"]) == (200, 2, 3, True)
    assert all(detail(api, m)["recipients"][0]["address"].startswith("erased:") and detail(api, m)["body"] is None
               for m in sent)
    audited = view(api, "/v1/audit?entity=person:P1&order=asc", AUDITOR).json["items"]
    assert [(e["details"].get("error"), e["details"]["complete"]) for e in audited] == [
        ("ProvisionedThroughputExceededException", False), (None, True)]


def test_a_delivery_with_more_events_than_a_transaction_shows_erased_from_its_first_step(api, monkeypatch):
    api.setup_tenant("acme")
    message_id = api.record(subject="Newsletter", created_at=WHEN, recipients=[KID, MUM])
    for n in range(60):  # opened again and again: more events than one transaction can move
        api.mailgun(mailgun_event("opened", "kid.pupil@example.com", message_id=message_id, event_id=f"open-{n:02d}"))
    faults = Faults(monkeypatch)
    faults.fail("TransactWriteItems", times=50, after=1)  # 50 events move, then the rest fails
    assert erase(api).status == 503
    [row] = view(api, "/v1/recipients/person:P1/messages").json["items"]  # not done yet: still listed, shown erased
    assert row["address"].startswith("erased:") and row["erased_at"] and (row["name"], row["fields"]) == (None, None)
    faults.plan.clear()
    done = erase(api)
    assert (done.status, done.json["events_erased"], done.json["erased_total"]) == (200, 10, 1)
    assert view(api, "/v1/recipients/person:P1/messages").json["items"] == []
    events = view(api, f"/v1/events?message_id={message_id}&limit=100").json["items"]
    assert len(events) == 60 and {e["recipient"] for e in events} == {row["address"]}
    assert view(api, "/v1/events?recipient=kid.pupil@example.com").json["items"] == []


def test_another_tenant_s_person_is_never_touched(api):
    api.setup_tenant("acme")
    api.setup_tenant("beta", signing_key="key-beta-0000")
    beta_admin = token("beta")
    ours = api.record(subject="Ours", created_at=WHEN, recipients=[KID])
    theirs = api.record("beta", subject="Theirs", created_at=WHEN, recipients=[KID, {**MUM, "person_id": "P7"}])
    assert erase(api).json["erased"] == 1
    assert detail(api, ours)["recipients"][0]["address"].startswith("erased:")
    kept = view(api, "/v1/recipients/person:P1/messages", beta_admin).json["items"]
    assert [(r["message_id"], r["address"], r["name"]) for r in kept] == [(theirs, KID["address"], KID["name"])]
    # another tenant's person is unknown here, whatever the id: the same 404 as an id nobody uses
    for person in ("P7", "P404"):
        reply = erase(api, person)
        assert reply.status == 404 and reply.headers["content-type"] == "application/problem+json", person
    assert view(api, "/v1/recipients/person:P7/messages", beta_admin).json["items"][0]["name"] == "Pupil, Mum"
    assert view(api, "/v1/audit?entity=person:P1", token("beta", ["logs:audit"])).json["items"] == []


def test_only_a_tenant_wide_admin_erases(api):
    api.setup_tenant("acme")
    api.record(created_at=WHEN, recipients=[KID])
    for rights in (["people:all"], ["messages:write"], ["suppressions:write", "logs:recipient-fields"], []):
        assert erase(api, auth=token(rights=rights)).status == 403, rights
    assert erase(api, auth=token(org_units=("school-1",))).status == 403  # an admin of some schools only
    assert erase(api, auth=None).status == 401
    assert view(api, "/v1/recipients/person:P1/messages").json["items"][0]["name"] == KID["name"]
    assert erase(api).status == 200


def test_a_bad_person_id_is_refused_naming_it(api):
    for path in ("/v1/people/P%231", "/v1/people/%20", f"/v1/people/{'x' * 129}"):
        reply = api.call("DELETE", path)
        assert (reply.status, reply.fields) == (400, ["person_id"]), (path, reply.raw)


def test_the_sample_event_erases_the_sample_message_s_recipient(api):
    runtime = api.gateway.runtime

    def invoke(function, name):
        result = runtime.invoke(function, json.loads((ROOT / "events" / f"{name}.json").read_text()))
        return result["statusCode"], json.loads(result["body"])

    status, recorded = invoke("MessagesFunction", "messages-record")
    assert status == 201
    assert invoke("PeopleFunction", "people-erase") == (
        200,
        {
            "person_id": "P9001",
            "erased": 1,
            "erased_total": 1,
            "events_erased": 0,
            "bodies_deleted": 1,
            "complete": True,
        },
    )
    demo = token("demo", ["logs:sent"])
    [row] = detail(api, recorded["message_id"], demo)["recipients"]
    assert row["address"].startswith("erased:") and row["name"] is None


def test_pseudonyms_are_stable_within_an_erasure_and_unlinkable_across_them():
    from msglog import keys
    from msglog.addresses import key_of_any

    salt, next_salt = "00" * 16, "01" * 16
    pseudonym = keys.erased_recipient_key(salt, "pat@example.com")
    assert pseudonym == keys.erased_recipient_key(salt, "pat@example.com")
    assert pseudonym not in (keys.erased_recipient_key(next_salt, "pat@example.com"),
                             keys.erased_recipient_key(salt, "sam@example.com"))
    assert pseudonym.startswith("erased:") and "#" not in pseudonym and key_of_any(pseudonym) == pseudonym
    assert keys.erasure_pk("t1", "P1").startswith("T#t1#")
