"""`format=csv` on every list: the seeds' printable reports, within Lambda's answer limits; larger ones
as export jobs (202, SQS → ExportFunction → S3, a presigned link from GET /v1/exports/{id})."""

from __future__ import annotations

import csv
import io

import pytest
import requests

from tests.support import Faults, mailgun_event, token

LISTS = ["/v1/messages", "/v1/recipients/pat@example.com/messages", "/v1/events", "/v1/ingestion-log",
         "/v1/suppressions", "/v1/activity", "/v1/audit", "/v1/panel-log", "/v1/logins", "/v1/api-log", "/v1/stats",
         "/v1/transactions"]


def table(reply):
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/csv"), reply.raw[:300]
    return list(csv.DictReader(io.StringIO(reply.raw.decode())))


@pytest.mark.parametrize("path", LISTS)
def test_every_list_answers_csv(api, path):
    api.record(subject="Report", recipients=[{"address": "pat@example.com"}])
    reply = api.get(f"{path}?format=csv")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/csv")
    assert "attachment" in reply.headers["content-disposition"]


def test_the_recipient_report_has_one_row_per_message_with_nested_fields_as_columns(api):
    for n in range(3):
        api.record(subject=f"Notice {n}", sender={"id": "u1", "name": "Office"},
                   recipients=[{"address": "pat@example.com", "name": "Pat", "role": "guardian"}])
    rows = table(api.get("/v1/recipients/pat@example.com/messages?format=csv&limit=2"))
    assert [r["subject"] for r in rows] == ["Notice 2", "Notice 1", "Notice 0"]  # pages followed
    assert (rows[0]["sender.name"], rows[0]["address"], rows[0]["status"]) == ("Office", "pat@example.com", "queued")


def test_a_long_report_continues_with_the_next_cursor_when_asked_not_to_become_a_job(api_with):
    api = api_with(CSV_MAX_ROWS="2")
    for n in range(5):
        api.record(subject=f"S{n}")
    first = api.get("/v1/messages?format=csv&limit=2&async=false")
    assert [r["subject"] for r in table(first)] == ["S4", "S3"]
    rest = api.get(f"/v1/messages?format=csv&limit=2&async=false&cursor={first.headers['x-next-cursor']}")
    assert [r["subject"] for r in table(rest)] == ["S2", "S1"]
    assert api.pump() == 0  # no job


def test_cells_never_become_spreadsheet_formulas(api):
    api.record(subject="=HYPERLINK(\"http://evil\")", recipients=[{"address": "+15550100001"}], channel="sms")
    [row] = table(api.get("/v1/messages?format=csv"))
    assert row["subject"] == "'=HYPERLINK(\"http://evil\")"
    [row] = table(api.get("/v1/recipients/%2B15550100001/messages?format=csv"))
    assert row["address"] == "+15550100001"  # a phone number stays as it is


def test_csv_keeps_the_rights(api):
    assert api.get("/v1/messages?format=csv", auth=token(rights=["logs:provider"])).status == 403
    assert api.get("/v1/messages?format=xml").fields == ["format"]


# ------------------------------------------------------------------ export jobs
SMALL = {"CSV_MAX_ROWS": "2"}  # the inline limit, made small: a report of 3 rows or more becomes a job
CHUNKED = {**SMALL, "EXPORT_CHUNK_BYTES": "1", "EXPORT_RESERVE_SECONDS": "100000", "EXPORT_PART_BYTES": "1"}


def started(reply):
    assert reply.status == 202, reply.raw[:300]
    body = reply.json
    assert (
        body["status"] == "running" and reply.headers["location"] == body["href"] == f"/v1/exports/{body['export_id']}"
    )
    return body["href"]


def fetched(api, href, auth="default"):
    """The finished job's file, through its presigned link (moto's S3)."""
    job = api.get(href, auth=auth).json
    assert job["status"] == "done", job
    got = requests.get(job["url"], timeout=10)
    assert got.status_code == 200
    assert got.headers["content-disposition"] == f'attachment; filename="{job["filename"]}"'
    return job, list(csv.DictReader(io.StringIO(got.content.decode())))


def test_a_small_report_still_answers_inline(api):
    for n in range(3):
        api.record(subject=f"S{n}")
    assert [r["subject"] for r in table(api.get("/v1/messages?format=csv&limit=1"))] == ["S2", "S1", "S0"]
    assert api.pump() == 0


def test_a_report_over_the_inline_limit_becomes_a_job_whose_link_gives_every_row_once(api_with):
    api = api_with(**SMALL)
    subjects = [f"=cmd|' /C calc'!A{n}" if n % 3 == 0 else f"Notice {n}" for n in range(7)]
    for subject in subjects:
        api.record(subject=subject, sender={"id": "u1", "name": "@Office"})
    href = started(api.get("/v1/messages?format=csv&limit=2"))
    waiting = api.get(href).json
    assert (waiting["status"], waiting["rows"], waiting["url"]) == ("running", 0, None)
    assert api.pump() == 1
    job, rows = fetched(api, href)
    assert [r["subject"] for r in rows] == [s if s[0] != "=" else f"'{s}" for s in reversed(subjects)]
    assert {r["sender.name"] for r in rows} == {"'@Office"}  # formula-safe cells, as inline
    assert job["rows"] == 7 and job["view"] == "sent" and job["filename"].startswith("sent-messages-")
    assert api.pump() == 0  # nothing left to do


def test_async_true_starts_a_job_at_once_and_it_shows_what_the_list_shows(api):
    api.setup_tenant("acme")
    ids = [api.record(subject=f"S{n}", recipients=[{"address": "pat@example.com", "name": "Pat", "fields": {"a": n}}])
           for n in range(3)]
    api.mailgun(mailgun_event("delivered", "pat@example.com", message_id=ids[1]))
    path = "/v1/recipients/pat@example.com/messages?format=csv&limit=1&order=asc"
    inline = table(api.get(path))
    api.pump()
    href = started(api.get(path + "&async=true"))
    api.pump()
    _, rows = fetched(api, href)
    assert rows == inline and [r["status"] for r in rows] == ["queued", "delivered", "queued"]


@pytest.mark.parametrize("path", [p for p in LISTS if p != "/v1/stats"])
def test_every_paged_list_can_run_as_a_job(api, path):
    api.record(subject="Report", recipients=[{"address": "pat@example.com"}])
    api.call("PUT", "/v1/suppressions/pat@example.com", {"reason": "manual"})
    api.post("/v1/transactions", {"type": "top-up", "credits": 1})
    href = started(api.get(f"{path}?format=csv&async=true"))
    api.pump()
    job, rows = fetched(api, href)
    assert job["rows"] == len(rows)


def test_a_job_runs_in_chunks_over_several_runs_and_joins_them_in_order(api_with, monkeypatch):
    import moto.s3.models

    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", 1)  # parts of a few bytes, as 8 MiB ones
    api = api_with(**CHUNKED)  # one page per run, then the job queues itself again
    for n in range(9):
        api.record(subject=f"S{n}", recipients=[{"address": f"r{n}@example.com"}])
    href = started(api.get("/v1/messages?format=csv&limit=2"))
    deliveries = api.pump()
    assert deliveries >= 6  # 5 pages, then the joining
    job, rows = fetched(api, href)
    assert [r["subject"] for r in rows] == [f"S{n}" for n in reversed(range(9))]
    assert job["rows"] == 9 and job["bytes"] == len(requests.get(job["url"], timeout=10).content)


def test_columns_first_seen_late_are_in_the_header(api_with, monkeypatch):
    import moto.s3.models

    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", 1)
    api = api_with(**CHUNKED)
    api.record(subject="Plain", recipients=[{"address": "pat@example.com"}])
    api.record(subject="Merged", recipients=[{"address": "pat@example.com", "fields": {"student.firstname": "Jo"}}])
    href = started(api.get("/v1/recipients/pat@example.com/messages?format=csv&limit=1&order=asc"))
    api.pump()
    _, rows = fetched(api, href, auth=token(rights=["admin"]))
    assert [(r["subject"], r["fields.student.firstname"]) for r in rows] == [("Plain", None), ("Merged", "Jo")]


def test_only_the_starter_reads_the_job(api_with):
    api = api_with(**SMALL)
    for n in range(3):
        api.record(subject=f"S{n}")
    href = started(api.get("/v1/messages?format=csv&limit=1"))
    api.pump()
    assert api.get(href).status == 200
    for other in (token(sub="u-someone-else"), token(tenant="other"), token(tenant="other", sub="u-admin")):
        reply = api.get(href, auth=other)
        assert reply.status == 404 and reply.headers["content-type"] == "application/problem+json"
    for bad in ("01JAAAAAAAAAAAAAAAAAAAAAAA", "nope", "x" * 64):
        assert api.get(f"/v1/exports/{bad}").status == 404
    assert api.get(href, auth=None).status == 401


def test_the_file_never_shows_more_than_the_starters_view(api_with):
    api = api_with(**SMALL)
    for n in range(4):  # u1's messages to students and guardians, and u2's
        for sender in ("u1", "u2"):
            api.record(subject=f"{sender}-{n}", sender={"id": sender, "name": sender}, org_unit=f"school-{n % 2}",
                       recipients=[{"address": "kid@example.com", "family_id": "F1", "role": "student"},
                                   {"address": "mum@example.com", "family_id": "F1", "role": "guardian"}])
    teacher = token(rights=["logs:recipient"], sub="u1", org_units=("school-0",))
    shown = [r["subject"] for r in walk_inline(api, "/v1/recipients/family:F1/messages?limit=2", teacher)]
    assert shown == ["u1-2", "u1-0"]
    href = started(api.get("/v1/recipients/family:F1/messages?format=csv&limit=1&async=true", auth=teacher))
    api.pump()
    _, rows = fetched(api, href, auth=teacher)
    assert [(r["subject"], r["address"]) for r in rows] == [("u1-2", "kid@example.com"), ("u1-0", "kid@example.com")]
    assert api.get(href).status == 404  # not even the tenant's admin: the job is the teacher's


def walk_inline(api, path, auth):
    items, cursor = [], None
    while True:
        reply = api.get(path + (f"&cursor={cursor}" if cursor else ""), auth=auth)
        assert reply.status == 200, reply.raw
        items += reply.json["items"]
        if not (cursor := reply.json["next_cursor"]):
            return items


@pytest.mark.parametrize(("after", "logged"), [
    (4, "export run failed"),  # run 2 wrote its chunk, and recording it fails: the message is retried
    (5, "lease could not be released"),  # run 2 could not let go of the job: the run it queued takes it over
])
def test_a_run_failing_mid_job_is_retried_and_every_row_is_written_once(api_with, monkeypatch, after, logged):
    import moto.s3.models

    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", 1)
    api = api_with(**CHUNKED)
    for n in range(7):
        api.record(subject=f"S{n}")
    href = started(api.get("/v1/messages?format=csv&limit=2"))
    faults = Faults(monkeypatch)
    # The job's writes, one page per run: run 1 leases, records its chunk, releases, queues the job again;
    # run 2 leases (the 4th), writes its chunk to S3 and records it (the 5th), releases (the 6th) … An error no
    # retry helps hits one of them.
    faults.fail("UpdateItem", times=1, code="ValidationException", after=after)
    api.pump()
    assert logged in api.output.getvalue()
    job, rows = fetched(api, href)
    assert [r["subject"] for r in rows] == [f"S{n}" for n in reversed(range(7))] and job["rows"] == 7


def test_a_job_failing_on_every_attempt_is_marked_failed(api_with, monkeypatch):
    api = api_with(**SMALL)
    for n in range(3):
        api.record(subject=f"S{n}")
    href = started(api.get("/v1/messages?format=csv&limit=1"))
    Faults(monkeypatch).fail("Query", times=1000, code="ValidationException")  # the view cannot be read
    assert api.pump() == 3  # three attempts (the queue's maxReceiveCount), then the dead-letter queue
    job = api.get(href).json
    assert (job["status"], job["url"], job["error"]) == ("failed", None, "the export failed; start it again")


def test_the_job_keeps_the_query_and_its_errors_come_first(api_with):
    api = api_with(**SMALL)
    assert api.get("/v1/messages?format=csv&async=true", auth=token(rights=["logs:provider"])).status == 403
    assert api.get("/v1/activity?format=csv&async=true&sort=status").fields == ["sort"]
    assert api.get("/v1/messages?format=csv&async=true&cursor=forged").fields == ["cursor"]
    assert api.pump() == 0
    for n in range(6):
        api.record(subject=f"S{n}", channel="sms" if n % 2 else "email", recipients=[{"address": "+15550100001"}]
                   if n % 2 else [{"address": "pat@example.com"}])
    href = started(api.get("/v1/messages?format=csv&limit=1&channel=sms&order=asc"))
    api.pump()
    _, rows = fetched(api, href)
    assert [r["subject"] for r in rows] == ["S1", "S3", "S5"]


def test_the_sample_queue_event_runs(api):
    import json

    from local.template import ROOT

    event = json.loads((ROOT / "events/export-job.json").read_text())  # a job that does not exist: skipped
    assert api.gateway.runtime.invoke("ExportFunction", event) == {"batchItemFailures": []}
    assert '"outcome":"skipped"' in api.output.getvalue().replace(" ", "")
