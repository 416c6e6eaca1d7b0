"""GET /v1/people?q=: the people directory built from recorded recipients (issue 18, "Find the person first")."""

from __future__ import annotations

import pytest

from tests.support import all_pages, token

ADMIN = token()
ALL_PEOPLE = token(rights=["people:all"])
STUDENTS = token(rights=["logs:recipient"], sub="u-teacher")
ZOE = {"address": "Zoe.Martin@Example.com", "person_id": "stu-1001", "family_id": "fam-7", "role": "student",
       "name": "Zoë Martin"}
MUM = {"address": "+15550100002", "person_id": "gdn-2002", "family_id": "fam-7", "role": "guardian",
       "name": "Martine Martin"}
TEACHER = {"address": "o.brien@school.example", "person_id": "stf-3003", "role": "staff", "name": "Seán O'Brien"}


def record(api, recipients, tenant="acme", channel="email", org_unit="east", created_at="2026-03-10T12:00:00Z",
           subject="Report card"):
    return api.record(tenant=tenant, channel=channel, org_unit=org_unit, created_at=created_at, subject=subject,
                      sender={"id": "u-teacher", "name": "Teacher"}, recipients=recipients)


def found(api, q, auth=ADMIN):
    reply = api.get(f"/v1/people?q={q}", auth=auth)
    assert reply.status == 200, reply.raw
    return [row["person_id"] for row in reply.json["items"]]


def test_a_recorded_recipient_is_found_by_the_start_of_a_word_of_the_name(api):
    record(api, [ZOE])
    record(api, [MUM], channel="sms")
    reply = api.get("/v1/people?q=mart")
    assert reply.status == 200
    assert {row["person_id"]: row for row in reply.json["items"]}["stu-1001"] == {
        "person_id": "stu-1001",
        "name": "Zoë Martin",
        "role": "student",
        "family_id": "fam-7",
        "addresses": ["zoe.martin@example.com"],
        "org_units": ["east"],
        "last_message_at": "2026-03-10T12:00:00.000000Z",
    }
    assert sorted(found(api, "mart")) == ["gdn-2002", "stu-1001"]  # Martin and Martine: each person once
    assert found(api, "martine") == ["gdn-2002"]
    assert found(api, "artin") == []  # the start of a word, not any part of one


def test_case_and_accents_do_not_matter_either_way(api):
    record(api, [ZOE, TEACHER])
    assert found(api, "zoe") == ["stu-1001"]
    assert found(api, "ZOË") == ["stu-1001"]
    assert found(api, "sean") == ["stf-3003"]
    assert found(api, "Séan") == ["stf-3003"]
    assert found(api, "zoe%20mar") == ["stu-1001"]  # several words: each starts one of hers
    assert found(api, "zoe%20brien") == []


def test_found_by_an_address_and_by_the_id(api):
    record(api, [ZOE, TEACHER])
    record(api, [MUM], channel="sms")
    assert found(api, "zoe.mar") == ["stu-1001"]  # the whole address, from its start
    assert found(api, "ZOE.MARTIN%40example.COM") == ["stu-1001"]
    assert found(api, "brien") == ["stf-3003"]  # a word of the local part (o.brien)
    assert sorted(found(api, "example")) == ["stf-3003", "stu-1001"]  # a word of the domain
    assert found(api, "%2B1555") == ["gdn-2002"]  # the phone as E.164
    assert found(api, "stu-10") == ["stu-1001"]
    assert found(api, "STF") == ["stf-3003"]
    assert found(api, "nobody") == []


def test_logs_recipient_finds_students_only_people_all_everyone_and_no_right_is_a_403(api):
    record(api, [ZOE, TEACHER])
    record(api, [MUM], channel="sms")
    assert found(api, "mart", auth=STUDENTS) == ["stu-1001"]
    assert found(api, "o", auth=STUDENTS) == []  # O'Brien is staff
    assert sorted(found(api, "mart", auth=ALL_PEOPLE)) == ["gdn-2002", "stu-1001"]
    assert found(api, "sean", auth=ALL_PEOPLE) == ["stf-3003"]
    for rights in (["logs:sent"], ["logs:recipient-fields"], []):
        reply = api.get("/v1/people?q=mart", auth=token(rights=rights))
        assert reply.status == 403
        assert reply.headers["content-type"] == "application/problem+json"


def test_a_caller_limited_to_org_units_finds_the_people_recorded_in_them(api):
    record(api, [ZOE], org_unit="east")
    record(api, [MUM], org_unit="west", channel="sms")
    record(api, [TEACHER], org_unit=None)
    assert found(api, "mart", auth=token(rights=["people:all"], org_units=("east",))) == ["stu-1001"]
    assert found(api, "mart", auth=token(rights=["people:all"], org_units=("west", "north"))) == ["gdn-2002"]
    assert found(api, "sean", auth=token(rights=["people:all"], org_units=("east", "west"))) == []
    assert sorted(found(api, "", auth=token(rights=["people:all"]))) == ["gdn-2002", "stf-3003", "stu-1001"]
    record(api, [ZOE], org_unit="west", created_at="2026-03-11T08:00:00Z")  # now in both
    assert sorted(found(api, "mart", auth=token(rights=["people:all"], org_units=("west",)))) == [
        "gdn-2002",
        "stu-1001",
    ]


def test_another_tenant_s_people_are_never_found(api):
    record(api, [ZOE], tenant="other")
    for q in ("zoe", "stu", "zoe.martin", ""):
        assert found(api, q) == []
    assert found(api, "zoe", auth=token(tenant="other")) == ["stu-1001"]


def test_a_person_recorded_again_is_one_row_updated_in_place(api):
    record(api, [ZOE], created_at="2026-03-10T12:00:00Z")
    record(api, [{**ZOE, "address": "+15550100001", "name": "Zoë Martin-Lee"}], channel="sms", org_unit="west",
           created_at="2026-03-12T09:30:00Z")
    # a backfilled older message neither renames her nor moves her latest message back
    record(api, [{**ZOE, "address": "zoe@old.example", "name": "Zoe M."}], created_at="2025-09-01T08:00:00Z")
    rows = api.get("/v1/people?q=zoe").json["items"]
    assert rows == [{"person_id": "stu-1001", "name": "Zoë Martin-Lee", "role": "student", "family_id": "fam-7",
                     "addresses": ["+15550100001", "zoe.martin@example.com", "zoe@old.example"],
                     "org_units": ["east", "west"], "last_message_at": "2026-03-12T09:30:00.000000Z"}]
    assert found(api, "lee") == ["stu-1001"]  # the new name's words
    assert found(api, "old") == ["stu-1001"]  # every address's


def test_recipients_added_to_a_message_join_the_directory(api):
    message_id = record(api, [ZOE])
    reply = api.post(f"/v1/messages/{message_id}/recipients", {"recipients": [TEACHER]},
                     auth=token(rights=["messages:write"]))
    assert reply.status == 200, reply.raw
    assert found(api, "o.brien") == ["stf-3003"]


def test_a_renamed_person_is_no_longer_found_by_the_old_name(api):
    zoe = {**ZOE, "address": "z1@example.com"}
    record(api, [zoe], created_at="2026-03-10T12:00:00Z")
    record(api, [{**zoe, "name": "Zoë Lee"}], created_at="2026-03-11T12:00:00Z")
    assert found(api, "martin") == []
    assert found(api, "lee") == ["stu-1001"]


def test_two_renames_at_once_end_with_exactly_the_tokens_of_the_final_name(api, monkeypatch):
    """Two recordings rename one person at once: the one with the earlier message writes its entry first, and
    deletes the tokens stale for it (the old name's) only after the other wrote its entry whole — which names
    the person by the old name again."""
    from msglog import keys, people
    from msglog.models import Message, PersonToken
    from msglog.schemas import RecipientIn

    zoe = {**ZOE, "address": "z1@example.com", "name": "Ann Lee"}
    record(api, [zoe], created_at="2026-03-10T12:00:00Z")

    def rename(name: str, at: str) -> None:
        message = Message(keys.message_pk("acme", at), keys.META_SK, channel="email", org_unit="east", created_at=at)
        people.record("acme", message, [RecipientIn(**{**zoe, "name": name})])

    delete = people._delete

    def racing(items):
        monkeypatch.setattr(people, "_delete", delete)
        rename("Ann Lee", "2026-03-12T12:00:00Z")  # the other recording, from its read to its deletes
        delete(items)

    monkeypatch.setattr(people, "_delete", racing)
    rename("Bea Lee", "2026-03-11T12:00:00Z")
    assert found(api, "ann") == ["stu-1001"]
    assert found(api, "bea") == []
    rows = PersonToken.query(keys.directory_pk("acme", "stu-1001"), PersonToken.sk.startswith(keys.PERSON_TOKEN_PREFIX))
    assert {row.token for row in rows} == people.tokens("stu-1001", "Ann Lee", ["z1@example.com"])


def test_erasure_removes_the_person_from_the_directory(api):
    record(api, [ZOE, TEACHER])
    record(api, [MUM], channel="sms")
    assert api.call("DELETE", "/v1/people/stu-1001").status == 200
    for q in ("zoe", "martin", "zoe.martin", "example", "stu-1001", ""):
        assert "stu-1001" not in found(api, q)
    assert found(api, "martin") == ["gdn-2002"]  # the rest of the family stays
    record(api, [{**ZOE, "name": "Zoë"}], created_at="2026-04-01T08:00:00Z")  # recorded again after: back
    assert found(api, "zoe") == ["stu-1001"]


def test_pages_follow_the_cursor_and_show_each_person_once(api):
    people = [{"address": f"ann{i}@example.com", "person_id": f"p-{i}", "role": "student",
               "name": f"Ann Annabel Anders{i}"} for i in range(7)]
    record(api, people)
    rows, _ = all_pages(api, "/v1/people?q=ann&limit=3")
    assert sorted(row["person_id"] for row in rows) == [f"p-{i}" for i in range(7)]
    first = api.get("/v1/people?q=ann&limit=3").json
    assert len(first["items"]) == 3 and first["next_cursor"]
    reply = api.get(f"/v1/people?q=anna&limit=3&cursor={first['next_cursor']}")  # bound to its q
    assert reply.status == 400


@pytest.mark.parametrize(("path", "field"), [
    ("/v1/people?q=" + "a" * 101, "q"), ("/v1/people?q=ann&name=ann", "name"), ("/v1/people?limit=0", "limit")])
def test_bad_parameters_are_a_400_naming_them(api, path, field):
    reply = api.get(path)
    assert reply.status == 400
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.fields == [field]


def test_a_row_opens_the_person_s_and_the_family_s_recipient_log(api):
    record(api, [ZOE])
    record(api, [MUM], channel="sms", created_at="2026-03-11T12:00:00Z")
    row = api.get("/v1/people?q=zoe", auth=ALL_PEOPLE).json["items"][0]
    auth = token(rights=["logs:recipient:any-sender", "people:all"])
    person = api.get(f"/v1/recipients/person:{row['person_id']}/messages", auth=auth)
    assert [r["address"] for r in person.json["items"]] == ["Zoe.Martin@Example.com"]
    family = api.get(f"/v1/recipients/family:{row['family_id']}/messages", auth=auth)
    assert [r["person_id"] for r in family.json["items"]] == ["gdn-2002", "stu-1001"]


def test_me_lists_people_for_the_rights_that_open_it(api):
    assert "people" in api.get("/v1/me", auth=STUDENTS).json["views"]
    assert "people" in api.get("/v1/me", auth=ALL_PEOPLE).json["views"]
    assert "people" not in api.get("/v1/me", auth=token(rights=["logs:sent"])).json["views"]
