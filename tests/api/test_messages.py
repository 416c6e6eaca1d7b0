"""POST /v1/messages and POST /v1/messages/{id}/recipients."""

from __future__ import annotations

import pytest

from tests.support import token

WRITER = token(rights=["messages:write"], sub="sender-1")
READER = token(rights=["logs:sent", "logs:recipient:any-sender", "people:all", "logs:recipient-fields"])

EMAIL = {
    "channel": "email", "category": "Behavior", "org_unit": "school-1",
    "sender": {"id": "sender-1", "name": "Matthews, Dexter"}, "subject": "Detention notice",
    "body": {"text": "Dear {{student.firstname}}", "html": "<p>Dear {{student.firstname}}</p>"},
    "provider": "mailgun", "campaign": "Behavior Nov", "lists": ["Grade 9"],
    "recipients": [
        {"address": "Kid@Example.com", "person_id": "P1", "family_id": "F1", "role": "student", "name": "Doe, Kid",
         "fields": {"student.firstname": "Kid"}},
        {"address": "parent@example.com", "person_id": "P2", "family_id": "F1", "role": "guardian",
         "provider_message_id": "abc@mg.example"},
    ],
}


def test_record_then_read_it_back(api):
    reply = api.post("/v1/messages", EMAIL, auth=WRITER)
    assert reply.status == 201
    message_id = reply.json["message_id"]
    assert len(message_id) == 26
    detail = api.get(f"/v1/messages/{message_id}", auth=READER).json
    assert detail["subject"] == "Detention notice" and detail["status"] == "sent"
    assert detail["body"] == EMAIL["body"]
    assert {r["address"] for r in detail["recipients"]} == {"Kid@Example.com", "parent@example.com"}
    assert {r["status"] for r in detail["recipients"]} == {"queued"}
    log = api.get("/v1/recipients/kid@example.COM/messages", auth=READER).json
    assert [i["message_id"] for i in log["items"]] == [message_id]
    assert log["items"][0]["fields"] == {"student.firstname": "Kid"}


def test_idempotency_key_returns_the_same_message(api):
    first = api.post("/v1/messages", EMAIL, auth=WRITER, headers={"Idempotency-Key": "send-42"})
    again = api.post("/v1/messages", EMAIL, auth=WRITER, headers={"Idempotency-Key": "send-42"})
    assert (first.status, again.status) == (201, 200)
    assert first.json == again.json
    assert len(api.get("/v1/messages", auth=READER).json["items"]) == 1


def test_idempotency_key_reused_for_another_message_conflicts(api):
    api.post("/v1/messages", EMAIL, auth=WRITER, headers={"Idempotency-Key": "send-43"})
    reply = api.post("/v1/messages", {**EMAIL, "subject": "Other"}, auth=WRITER, headers={"Idempotency-Key": "send-43"})
    assert reply.status == 409 and "Idempotency-Key" in reply.fields
    assert len(api.get("/v1/messages", auth=READER).json["items"]) == 1


def test_backfilled_messages_keep_their_time(api):
    message_id = api.post("/v1/messages", {**EMAIL, "created_at": "2024-03-01T08:00:00-06:00"}, auth=WRITER).json[
        "message_id"
    ]
    detail = api.get(f"/v1/messages/{message_id}", auth=READER).json
    assert detail["created_at"] == "2024-03-01T14:00:00.000000Z"
    inside = api.get("/v1/messages?from=2024-03-01T00:00:00Z&to=2024-03-02T00:00:00Z", auth=READER).json["items"]
    assert [m["message_id"] for m in inside] == [message_id]


@pytest.mark.parametrize("change,field", [
    ({"channel": "fax"}, "channel"),
    ({"status": "lost"}, "status"),
    ({"recipients": [{"address": "not-mail"}]}, "recipients[0].address"),
    ({"recipients": [{"address": "a@example.com"}, {"address": "A@example.com"}]}, "recipients[1].address"),
    ({"recipients": [{"address": "a@example.com", "role": "teacher"}]}, "recipients[0].role"),
    ({"recipients": [{"person_id": "P1"}]}, "recipients[0].address"),
    ({"recipients": [{"address": "a@example.com", "person_id": "P#1"}]}, "recipients[0].person_id"),
    ({"created_at": "yesterday"}, "created_at"),
    ({"created_at": "2024-03-01T08:00:00"}, "created_at"),
    ({"sender": {"id": "x", "rank": 3}}, "sender.rank"),
    ({"body": {"html": "x" * 999_999, "text": "xx"}}, "body"),
    ({"body": {"text": "x" * 1_000_001}}, "body"),  # over 1 MB (MAX_BODY_BYTES)
    ({"surprise": 1}, "surprise"),
])
def test_bad_messages_name_the_field_and_write_nothing(api, change, field):
    reply = api.post("/v1/messages", {**EMAIL, **change}, auth=WRITER)
    assert reply.status == 400, reply.json
    assert reply.headers["content-type"] == "application/problem+json"
    assert field in reply.fields, reply.json
    assert api.get("/v1/messages", auth=READER).json["items"] == []
    assert api.get("/v1/recipients/kid@example.com/messages", auth=READER).json["items"] == []


def test_sms_needs_e164_and_push_a_token(api):
    reply = api.post("/v1/messages", {"channel": "sms", "recipients": [{"address": "555-0100"}]}, auth=WRITER)
    assert reply.status == 400 and reply.fields == ["recipients[0].address"]
    assert api.post("/v1/messages", {"channel": "sms", "recipients": [{"address": "+1 555 010 0100"}]},
                    auth=WRITER).status == 201
    assert api.post("/v1/messages", {"channel": "push", "subject": "Bus late", "body": {"text": "10 min"},
                                     "recipients": [{"address": "fcm-token-1"}]}, auth=WRITER).status == 201


@pytest.mark.parametrize("raw,content_type", [(b"{", "application/json"), (b"[1,2]", "application/json"),
                                              (b"", "application/json"), (b"\xff\xfe", "application/json")])
def test_unreadable_bodies_are_400(api, raw, content_type):
    reply = api.post("/v1/messages", raw=raw, content_type=content_type, auth=WRITER)
    assert reply.status == 400
    assert reply.headers["content-type"] == "application/problem+json"


def test_recording_needs_messages_write(api):
    assert api.post("/v1/messages", EMAIL, auth=READER).status == 403
    assert api.post("/v1/messages", EMAIL, auth=None).status == 401


def test_recipients_added_in_batches_and_updated(api):
    message_id = api.post("/v1/messages", {**EMAIL, "recipients": []}, auth=WRITER).json["message_id"]
    first = api.post(
        f"/v1/messages/{message_id}/recipients",
        {"recipients": [{"address": f"r{n}@example.com", "role": "guardian"} for n in range(30)]},
        auth=WRITER,
    )
    assert first.json == {"message_id": message_id, "added": 30, "updated": 0, "events_linked": 0}
    second = api.post(f"/v1/messages/{message_id}/recipients",
                      {"recipients": [{"address": "R0@example.com", "provider_message_id": "late@mg"},
                                      {"address": "r30@example.com"}]}, auth=WRITER)
    assert (second.json["added"], second.json["updated"]) == (1, 1)
    detail = api.get(f"/v1/messages/{message_id}?limit=200", auth=READER).json
    assert len(detail["recipients"]) == 31
    assert [r["role"] for r in detail["recipients"] if r["address"] == "r0@example.com"] == ["guardian"]


def test_recipients_for_unknown_or_malformed_message_ids_are_404(api):
    body = {"recipients": [{"address": "a@example.com"}]}
    assert api.post("/v1/messages/01JAAAAAAAAAAAAAAAAAAAAAAA/recipients", body, auth=WRITER).status == 404
    assert api.post("/v1/messages/not-a-ulid/recipients", body, auth=WRITER).status == 404
    assert api.post("/v1/messages/01JAAAAAAAAAAAAAAAAAAAAAAA/recipients", {"recipients": []}, auth=WRITER).status == 400
