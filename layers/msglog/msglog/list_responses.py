"""How a list route answers: one page as JSON; the report as CSV, inline while it fits in an answer;
or, when it does not, as an export job (msglog.exports) that runs the same view to a file."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from aws_lambda_powertools.event_handler import Response

from msglog import exports
from msglog.config import config
from msglog.csvrows import cell, flat
from msglog.listing import ListQuery, Report


def listing(fmt: str, page: Callable[[ListQuery], dict[str, Any]] | Report, query: ListQuery,
            run_async: bool | None = None) -> dict[str, Any] | Response:
    """A list view as JSON (one page), or as CSV: pages followed here up to the inline limits (rows,
    bytes, seconds: msglog.config) — within Lambda's buffered 6 MB and API Gateway's 30 s. A longer
    report of a `Report` becomes an export job (202; msglog.exports) unless `run_async` is False;
    then, as for a bare page function, the `X-Next-Cursor` header continues it."""
    report, read = (page, page.page) if isinstance(page, Report) else (None, page)
    if fmt != "csv":
        return read(query)
    if report and run_async:
        read(query)  # what the view refuses (a right, the cursor, the sort) is refused now, not in the job
        return export_started(report, query)
    limits, first = config(), query
    started, rows, text_size = time.monotonic(), [], 0
    while True:
        result = read(query)
        batch = [flat(item) for item in result["items"]]
        rows += batch
        text_size += sum(len(str(value)) + 1 for row in batch for value in row.values())
        cursor_ = result.get("next_cursor")
        if not cursor_:
            break
        if len(rows) >= limits.csv_max_rows or text_size >= limits.csv_max_bytes \
                or time.monotonic() - started > limits.csv_max_seconds:
            if report and run_async is None:  # too long to answer inline: the whole report as a job
                return export_started(report, first)
            break
        query = replace(query, cursor=cursor_)
    return csv_response(rows, cursor_)


def export_started(report: Report, query: ListQuery) -> Response:
    export_id = exports.start(report, query)
    href = f"/v1/exports/{export_id}"
    return Response(status_code=202, content_type="application/json", headers={"Location": href},
                    body=json.dumps({"export_id": export_id, "status": "running", "href": href}))


def csv_response(rows: list[dict[str, Any]], next_cursor: str | None = None) -> Response:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: cell(v) for k, v in row.items()} for row in rows)
    headers = {"Content-Disposition": 'attachment; filename="report.csv"'}
    if next_cursor:
        headers["X-Next-Cursor"] = next_cursor
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=out.getvalue(), headers=headers)

