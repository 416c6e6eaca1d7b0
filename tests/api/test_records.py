"""The tenant's own logs: activity and audit (seed 001), panel and user logins (seed 004), and the
API request log this service writes about every call to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3

from local.provision import physical_name
from tests.support import mailgun_event, token

WRITER = token(rights=["events:write"], sub="saas-backend")
ADMIN = token(sub="u-admin")


def rows(api, path, rights=("admin",), **kw):
    reply = api.get(path, auth=token(rights=list(rights), **kw))
    assert reply.status == 200, reply.json
    return reply.json["items"]


def test_an_entitys_activity_log_shows_its_records_newest_first(api):
    for at, entity, action in [("2026-02-01T09:00:00+01:00", "family:F1", "enrolment requested"),
                               ("2026-02-01T10:00:00+01:00", "family:F2", "e-mail submitted"),
                               ("2026-02-02T08:30:00Z", "family:F1", "e-mail submitted")]:
        reply = api.post("/v1/activity", {"at": at, "entity": entity, "action": action, "ip": "203.0.113.9",
                                          "actor": {"id": "parent-1", "name": "Pat Parent"},
                                          "details": {"class": "Swim 101", "seats": 2}}, auth=WRITER)
        assert reply.status == 201 and reply.json["id"]
    f1 = rows(api, "/v1/activity?entity=family:F1", rights=["logs:activity"])
    assert [(r["at"], r["action"]) for r in f1] == [("2026-02-02T08:30:00.000000Z", "e-mail submitted"),
                                                   ("2026-02-01T08:00:00.000000Z", "enrolment requested")]
    assert (f1[0]["ip"], f1[0]["actor"]["name"], f1[0]["details"]) == ("203.0.113.9", "Pat Parent",
                                                                       {"class": "Swim 101", "seats": 2})
    everything = rows(api, "/v1/activity?from=2026-02-01T00:00:00Z&to=2026-02-01T23:59:59Z", rights=["logs:activity"])
    assert [r["entity"] for r in everything] == ["family:F2", "family:F1"]
    assert rows(api, "/v1/activity?q=swim&action=enrolment%20requested") == [f1[1]]


def test_a_retried_record_is_stored_once_and_never_overwritten(api):
    recent = (datetime.now(UTC) - timedelta(hours=1)).isoformat()  # a client's audit entry is of the last day
    first = {"id": "evt-1", "at": recent, "action": "student.updated", "entity": "student:S9"}
    created = api.post("/v1/audit", first, auth=WRITER)
    retried = api.post("/v1/audit", {**first, "action": "student.deleted"}, auth=WRITER)
    assert (created.status, retried.status) == (201, 200) and created.json == retried.json
    audit = rows(api, "/v1/audit?entity=student:S9", rights=["logs:audit"])
    assert [r["action"] for r in audit] == ["student.updated"]
    for method in ("PUT", "PATCH", "DELETE"):  # no route changes or deletes an audit entry
        assert api.call(method, "/v1/audit", {"action": "x"}).status in (404, 405)
    assert api.post("/v1/audit", {"id": "evt-2", "action": "x"}, auth=WRITER).fields == ["at"]


def test_the_service_audits_its_own_changes_without_secrets(api):
    api.call("PUT", "/v1/providers/mailgun", {"signing_key": "key-super-secret-1"}, auth=ADMIN)
    api.call("PATCH", "/v1/tenant", {"privacy_mode": True, "time_zone": "Europe/Paris"}, auth=ADMIN)
    audit = rows(api, "/v1/audit?order=asc", rights=["logs:audit"])
    assert [(r["action"], r["entity"], r["actor"]["id"]) for r in audit] == [
        ("provider.credentials_changed", "provider:mailgun", "u-admin"),
        ("tenant.settings_changed", "tenant", "u-admin")]
    assert audit[1]["details"] == {"privacy_mode": "True", "time_zone": "Europe/Paris"}
    assert "key-super-secret-1" not in str(audit)


def test_login_log_shows_each_users_last_success_and_failure_in_any_order(api):
    for at, status in [("2026-04-02T08:00:00Z", "success"), ("2026-04-03T08:00:00Z", "failed"),
                       ("2026-04-01T08:00:00Z", "success")]:  # the oldest posted last
        assert api.post("/v1/logins", {"at": at, "status": status, "ip": "198.51.100.7", "country": "US",
                                       "state": "TX", "city": "Austin",
                                       "user": {"id": "ann", "name": "Ann", "email": "ann@school.test"}},
                        auth=WRITER).status == 201
    api.post("/v1/logins", {"status": "success", "user": {"id": "bob"}}, auth=WRITER)
    ann = rows(api, "/v1/logins?user=ann", rights=["logs:logins"])
    assert [r["status"] for r in ann] == ["failed", "success", "success"]
    assert {(r["last_success_at"], r["last_failure_at"]) for r in ann} == {
        ("2026-04-02T08:00:00.000000Z", "2026-04-03T08:00:00.000000Z")}
    assert (ann[0]["city"], ann[0]["actor"]["email"]) == ("Austin", "ann@school.test")
    assert [r["actor"]["id"] for r in rows(api, "/v1/logins?status=failed")] == ["ann"]
    refused = api.post("/v1/logins", {"status": "maybe", "user": {"name": "x"}}, auth=WRITER)
    assert refused.fields == ["user.id", "status"]


def test_panel_log_rows(api):
    api.post("/v1/panel-log", {"url": "/students/P1", "method": "POST", "status": 302, "ip": "192.0.2.1",
                               "actor": {"id": "ann", "email": "ann@school.test"}, "user_agent": "Firefox"},
             auth=WRITER)
    [row] = rows(api, "/v1/panel-log?user=ann", rights=["logs:panel"])
    assert (row["url"], row["method"], row["status"], row["ip"], row["actor"]["email"], row["user_agent"]) == (
        "/students/P1", "POST", 302, "192.0.2.1", "ann@school.test", "Firefox")


def test_bad_records_get_a_problem_naming_the_field(api):
    cases = [({"entity": "family:F1"}, ["action"]), ({"action": "x", "ip": "not-an-ip"}, ["ip"]),
             ({"action": "x", "details": {f"k{i}": i for i in range(51)}}, ["details"]),
             ({"action": "x", "at": "yesterday"}, ["at"]), ({"action": "x", "colour": "red"}, ["colour"])]
    for body, fields in cases:
        reply = api.post("/v1/activity", body, auth=WRITER)
        assert (reply.status, reply.fields) == (400, fields), body
    assert api.post("/v1/panel-log", {"url": "/x", "method": "BREW"}, auth=WRITER).fields == ["method"]
    assert rows(api, "/v1/activity") == []  # nothing half-written


def test_every_api_call_is_in_the_api_log_without_bodies_or_queries(api):
    api.setup_tenant("acme")
    api.post("/v1/messages", {"channel": "email", "subject": "Top secret subject",
                              "recipients": [{"address": "pat@example.com"}]},
             auth=token(rights=["messages:write"], sub="u-sender", name="Sam Sender"))
    api.get("/v1/messages?q=secret", auth=token(rights=["logs:sent"], sub="u-reader"))
    api.get("/v1/events", auth=token(rights=["logs:sent"], sub="u-reader"))  # 403
    api.mailgun(mailgun_event("delivered", "pat@example.com"))  # webhooks are in the ingestion log instead
    log = rows(api, "/v1/api-log?order=asc", rights=["logs:api"], sub="u-auditor")
    assert [(r["method"], r["path"], r["status"], r["actor"]["id"]) for r in log] == [
        ("PUT", "/v1/providers/mailgun", 200, "u-admin"),
        ("POST", "/v1/messages", 201, "u-sender"),
        ("GET", "/v1/messages", 200, "u-reader"),
        ("GET", "/v1/events", 403, "u-reader")]
    assert log[1]["actor"]["name"] == "Sam Sender" and log[1]["ip"] and log[1]["request_id"]
    assert "secret" not in str(log).casefold()
    assert [r["path"] for r in rows(api, "/v1/api-log?caller=u-reader&status=403")] == ["/v1/events"]


def test_privacy_mode_keeps_addresses_out_of_the_api_log(api):
    api.call("PATCH", "/v1/tenant", {"privacy_mode": True}, auth=ADMIN)
    api.get("/v1/recipients/pat%40example.com/messages", auth=ADMIN)
    api.get("/v1/suppressions/%2B15550100001", auth=ADMIN)
    paths = [r["path"] for r in rows(api, "/v1/api-log?order=asc")]
    assert paths[1:3] == ["/v1/recipients/{recipient}/messages", "/v1/suppressions/{address}"]
    assert "pat" not in str(paths) and "1555" not in str(paths)


def test_records_stay_in_their_tenant_and_org_units(api):
    api.post("/v1/activity", {"action": "seen", "entity": "family:F1", "org_unit": "school-2"}, auth=WRITER)
    api.post("/v1/activity", {"action": "seen", "entity": "family:F1"}, auth=WRITER)
    assert rows(api, "/v1/activity?entity=family:F1", rights=["logs:activity"], tenant="other") == []
    assert len(rows(api, "/v1/activity?entity=family:F1", rights=["logs:activity"], org_units=("school-1",))) == 1
    assert len(rows(api, "/v1/activity?entity=family:F1", rights=["logs:activity"])) == 2
    narrow = token(rights=["events:write"], org_units=("school-1",))
    refused = api.post("/v1/activity", {"action": "x", "org_unit": "school-2"}, auth=narrow)
    assert (refused.status, refused.fields) == (403, ["org_unit"])


def test_operational_logs_expire_and_audit_is_kept(api):
    api.call("PATCH", "/v1/tenant", {"log_retention_days": 30}, auth=ADMIN)
    api.post("/v1/logins", {"at": "2026-05-01T00:00:00Z", "status": "success", "user": {"id": "ann"}}, auth=WRITER)
    api.post("/v1/audit", {"action": "x"}, auth=WRITER)
    items = boto3.client("dynamodb").scan(TableName=physical_name("Table"))["Items"]  # a test may look; no route scans
    expiry = {i["kind"]["S"]: i.get("expires_at", {}).get("N") for i in items
              if (i.get("kind", {}).get("S") == "login" and i["at"]["S"].startswith("2026-05-01"))
              or (i.get("kind", {}).get("S") == "audit" and i.get("action", {}).get("S") == "x")}
    assert expiry == {"login": str(1777593600 + 30 * 86400), "audit": None}


def test_a_body_that_is_not_json_is_415_naming_the_content_type(api):
    for path in ("/v1/activity", "/v1/logins", "/v1/transactions"):
        reply = api.post(path, raw=b'{"action": "x"}', content_type="text/plain", auth=ADMIN)
        assert (reply.status, reply.fields) == (415, ["Content-Type"]), path
    assert api.call("PATCH", "/v1/tenant", raw=b"privacy", content_type="text/plain").status == 415


def test_the_sms_log_shows_outcome_and_flags_messages_stuck_in_the_queue(api):
    api.call("PATCH", "/v1/tenant", {"sms_stuck_minutes": 15}, auth=ADMIN)
    api.record(
        channel="sms", recipients=[{"address": "+15550100001"}], subject="old", created_at="2026-01-01T08:00:00Z"
    )
    api.record(channel="sms", recipients=[{"address": "+15550100001"}], subject="just sent")
    rows = api.get("/v1/recipients/%2B15550100001/messages?channel=sms", auth=ADMIN).json["items"]
    assert [(r["subject"], r["outcome"], r["stuck"]) for r in rows] == [("just sent", "queued", False),
                                                                       ("old", "queued", True)]
    multipart = api.post("/v1/audit", raw=b'{"action": "x"}', content_type="multipart/form-data", auth=ADMIN)
    assert (multipart.status, multipart.fields) == (415, ["Content-Type"])  # no boundary: never parsed
    form = api.post("/v1/messages", raw=b"channel=email", content_type="application/x-www-form-urlencoded", auth=ADMIN)
    assert form.status == 415


def test_an_empty_detail_name_is_refused_not_stored(api):
    """Found by make fuzz-long: a record whose details had a key "" broke every later page of its log
    (the local DynamoDB could not answer the Query: 500 on GET /v1/activity, /audit, /panel-log)."""
    for path, body in [("/v1/activity", {"action": "x", "details": {"": 1}}),
                       ("/v1/audit", {"action": "x", "details": {"": "y"}}),
                       ("/v1/panel-log", {"url": "/x", "method": "GET", "details": {"": None}})]:
        reply = api.post(path, body, auth=WRITER)
        assert reply.status == 400 and reply.fields[0].startswith("details"), (path, reply.json)
        assert api.get(path).status == 200 and rows(api, path) == []


def test_numbers_too_small_for_dynamodb_are_refused_not_a_500(api):
    reply = api.post("/v1/activity", {"action": "x", "details": {"ratio": 1e-200}}, auth=WRITER)
    assert (reply.status, reply.fields) == (400, ["details.ratio.float"]) or reply.fields[0].startswith("details.ratio")
