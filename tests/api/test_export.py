"""`format=csv` on every list: the seeds' printable reports, within Lambda's answer limits."""

from __future__ import annotations

import csv
import io

import pytest

from tests.support import token

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


def test_a_long_report_continues_with_the_next_cursor(api, monkeypatch):
    from msglog import http

    monkeypatch.setattr(http, "CSV_MAX_ROWS", 2)
    for n in range(5):
        api.record(subject=f"S{n}")
    first = api.get("/v1/messages?format=csv&limit=2")
    assert [r["subject"] for r in table(first)] == ["S4", "S3"]
    rest = api.get(f"/v1/messages?format=csv&limit=2&cursor={first.headers['x-next-cursor']}")
    assert [r["subject"] for r in table(rest)] == ["S2", "S1"]


def test_cells_never_become_spreadsheet_formulas(api):
    api.record(subject="=HYPERLINK(\"http://evil\")", recipients=[{"address": "+15550100001"}], channel="sms")
    [row] = table(api.get("/v1/messages?format=csv"))
    assert row["subject"] == "'=HYPERLINK(\"http://evil\")"
    [row] = table(api.get("/v1/recipients/%2B15550100001/messages?format=csv"))
    assert row["address"] == "+15550100001"  # a phone number stays as it is


def test_csv_keeps_the_rights(api):
    assert api.get("/v1/messages?format=csv", auth=token(rights=["logs:provider"])).status == 403
    assert api.get("/v1/messages?format=xml").fields == ["format"]
