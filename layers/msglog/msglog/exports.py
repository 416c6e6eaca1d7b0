"""Large CSV reports as asynchronous jobs: a list route (format=csv) starts one when the report does
not fit in an answer (msglog.list_responses), ExportFunction runs it from the ExportJobs queue, and
GET /v1/exports/{id} hands its starter a presigned link to the file in the Exports bucket.

A job runs the very view the route serves (msglog.reports: the same function, page after page, with
the client's query), as the caller it captured at the start — tenant, rights, org units — so a file
never shows more than the starter's view did. The job's item (keys.export_pk) says how far it got.
A run writes whole pages as CSV and commits them in chunks: the chunk to S3 first, then the item
(rows, columns, and the view's cursor after the chunk), so a run that fails anywhere, or stops
because its time is short, leaves a state the next run continues from, and every row is in the
file exactly once (a chunk written but not recorded is read and written again by the next run; the
object left over goes with the bucket's 7-day lifecycle).

- A report read in one run without a commit is written as one object (most reports).
- Otherwise its chunks are objects of their own, joined at the end into the file by a multipart
  upload, the header first (the columns only grow as rows bring new nested fields, so only the end
  knows them all; a row written before a column appeared ends early, as spreadsheets read it).
- A run reads at least one page; then it stops when less than EXPORT_RESERVE_SECONDS are left,
  commits, and queues the job again.
- One run at a time holds a job: a lease until the run's own end, taken over early only by a run
  that knows the holder is over — the same queue message delivered again (SQS does that after the
  visibility timeout, longer than a run), or the message the holder queued as its last act. Every
  chunk object is named after its run, and the job lists which ones it committed, so a run that
  lost the job can never overwrite a committed chunk.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from msglog import ids, keys, reports
from msglog.auth import Caller, is_tenant_id
from msglog.clock import iso, now
from msglog.config import config
from msglog.csvrows import cell, flat
from msglog.errors import DomainError, Forbidden, NotFound
from msglog.listing import ListQuery, Report
from msglog.models import ExportJob, condition_failed
from msglog.telemetry import logger, metrics

KEPT = timedelta(days=7)  # the job item's TTL; the bucket expires the files after 7 days too
# A presigned link's life: short, as it works for whoever holds it, whatever their rights by then
# (GET /v1/exports/{id} checks them again before it makes each link).
LINK_SECONDS = 5 * 60
WRITE_ONLY_RIGHTS = frozenset({"messages:write", "events:write", "suppressions:write"})  # they shape no file

# ------------------------------------------------------------------ starting and reading a job
def start(report: Report, query: ListQuery) -> str:
    """Record the job (as the caller is now) and queue it; its id."""
    who, at = report.caller, now()
    export_id = ids.new_ulid(at)
    job = ExportJob(keys.export_pk(who.tenant, export_id), keys.EXPORT_SK, export_id=export_id, owner=who.sub,
                    view=report.view.name, args=json.dumps(dict(report.args)),
                    list_query=json.dumps(_query_document(query)),
                    caller=json.dumps({"name": who.name, "rights": sorted(who.rights),
                                       "org_units": sorted(who.org_units)}),
                    status="running", created_at=iso(at), expires_at=at + KEPT)
    job.save(condition=ExportJob.pk.does_not_exist())
    _enqueue(who.tenant, export_id, after_run=None)
    logger.info("export started", extra={"export_id": export_id, "view": report.view.name})
    metrics.add_metric(name="ExportsStarted", unit="Count", value=1)
    return export_id


def status(caller: Caller, export_id: str) -> dict[str, Any]:
    """The job as its starter sees it; anyone else — another caller, another tenant — gets 404."""
    job = _job(caller.tenant, export_id) if ids.is_ulid(export_id) else None
    if job is None or job.owner != caller.sub or (job.expires_at and job.expires_at < now()):
        raise NotFound("no such export")
    _still_entitled(caller, json.loads(job.caller))
    answer: dict[str, Any] = {
        "export_id": job.export_id, "status": job.status, "view": job.view, "rows": int(job.rows),
        "bytes": int(job.size), "created_at": job.created_at, "finished_at": job.finished_at,
        "expires_at": iso(job.expires_at) if job.expires_at else None, "url": None, "url_expires_at": None,
    }
    if job.status == "done":
        from msglog.aws import client

        known = reports.BY_NAME.get(job.view)
        filename = f"{known.file_name if known else 'report'}-{job.export_id}.csv"
        answer["url"] = client("s3", signature_version="s3v4").generate_presigned_url(
            "get_object",
            ExpiresIn=LINK_SECONDS,
            Params={
                "Bucket": config().export_bucket,
                "Key": job.object_key,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
                "ResponseContentType": "text/csv; charset=utf-8",
            },
        )
        answer["url_expires_at"] = iso(now() + timedelta(seconds=LINK_SECONDS))
        answer["filename"] = filename
    elif job.status == "failed":
        answer["error"] = job.error
    return answer


def _still_entitled(caller: Caller, started_as: dict[str, Any]) -> None:
    """The file shows what the starter's rights and org units showed then: it is theirs now only if
    they still hold each of those rights that reads (403 naming the first one gone) and each of
    those org units (else 404, as for anything outside one's scope)."""
    lost = [right for right in started_as["rights"] if right not in WRITE_ONLY_RIGHTS and not caller.has(right)]
    if lost:
        raise Forbidden(f"this export was made with the right {lost[0]}, which you no longer hold")
    if not all(caller.sees_org_unit(unit) for unit in started_as["org_units"]):  # "*" only for "*"
        raise NotFound("no such export")


def _job(tenant: str, export_id: str) -> ExportJob | None:
    try:
        return ExportJob.get(keys.export_pk(tenant, export_id), keys.EXPORT_SK, consistent_read=True)
    except ExportJob.DoesNotExist:
        return None


def _enqueue(tenant: str, export_id: str, *, after_run: int | None) -> None:
    """The message names the job only: everything else (and nothing personal) is in its item.
    `after_run`: the run that queues it, as its last act (the next run may take its lease over)."""
    from msglog.aws import client

    message = {"tenant": tenant, "export_id": export_id, **({"after_run": after_run} if after_run else {})}
    client("sqs").send_message(QueueUrl=config().export_queue_url, MessageBody=json.dumps(message))


def _query_document(query: ListQuery) -> dict[str, Any]:
    return {"limit": query.limit, "cursor": query.cursor, "from": query.start and iso(query.start),
            "to": query.end and iso(query.end), "q": query.q, "order": query.order, "sort": query.sort,
            "filters": [list(pair) for pair in query.filters]}


def _query_of(document: dict[str, Any]) -> ListQuery:
    def instant(text: str | None) -> datetime | None:
        return datetime.fromisoformat(text) if text else None

    return ListQuery(limit=document["limit"], cursor=document["cursor"], start=instant(document["from"]),
                     end=instant(document["to"]), q=document["q"], order=document["order"], sort=document["sort"],
                     filters=tuple((name, value) for name, value in document["filters"]))


# ------------------------------------------------------------------ running a job
def run(message: dict[str, Any], *, message_id: str, time_left: Callable[[], int], last_attempt: bool) -> str:
    """One run of the job a queue message names: "done", "continued" (queued again), "failed" (the
    view refused the query: a retry would too), or "skipped" (finished already, gone, or held by
    another run). Raises when the run fails otherwise: the message is retried, and on its last
    attempt the job is marked failed first."""
    tenant, export_id = str(message.get("tenant") or ""), str(message.get("export_id") or "")
    job = _job(tenant, export_id) if ids.is_ulid(export_id) and is_tenant_id(tenant) else None
    if job is None or job.status == "done":
        return "skipped"
    after_run = message.get("after_run")
    run_number = _lease(job, time_left, takeover=job.holder == message_id or after_run == int(job.runs),
                        holder=message_id)
    if run_number is None:
        return "skipped"  # a live run holds it: it finishes the job or queues it again
    try:
        return _Writer(job, run_number, time_left).write()
    except DomainError as error:  # e.g. a sort=status range that grew past its bound since the start
        logger.info("export refused by its view", extra={"export_id": export_id, "status": error.status})
        _release(job, run_number, failed=True, reason=error.detail)
        return "failed"
    except Exception:
        logger.exception("export run failed", extra={"export_id": export_id, "last_attempt": last_attempt})
        _release(job, run_number, failed=last_attempt)
        raise


def _lease(job: ExportJob, time_left: Callable[[], int], *, takeover: bool, holder: str) -> int | None:
    """Hold the job for this run (until the run's own end); None if another run holds it.
    `takeover`: the holder is known to be over (module docstring)."""
    at = time.time()
    run_number = int(job.runs) + 1
    condition = ExportJob.runs == job.runs  # and nobody started a run since `job` was read
    if not takeover:
        condition &= ExportJob.lease_until.does_not_exist() | (ExportJob.lease_until < int(at))
    try:
        job.update(actions=[ExportJob.lease_until.set(int(at + time_left() / 1000) + 1), ExportJob.runs.set(run_number),
                            ExportJob.holder.set(holder), ExportJob.status.set("running")],
                   condition=condition)
    except UpdateError as error:
        if condition_failed(error):
            return None
        raise
    return run_number


def _release(
    job: ExportJob, run_number: int, *, failed: bool, reason: str = "the export failed; start it again"
) -> None:
    """Best effort: a lease left behind ends with the run's time anyway, before the queue retries."""
    actions: list[Action] = [ExportJob.lease_until.remove(), ExportJob.holder.remove()]
    if failed:
        actions += [ExportJob.status.set("failed"), ExportJob.error.set(reason), ExportJob.finished_at.set(iso(now()))]
        metrics.add_metric(name="ExportsFailed", unit="Count", value=1)
    try:
        job.update(actions=actions, condition=ExportJob.runs == run_number)
    except Exception:  # noqa: BLE001 - the run's own failure is what gets reported
        logger.warning("the export's lease could not be released", exc_info=True)


class _Writer:
    """One run of a job (module docstring)."""

    def __init__(self, job: ExportJob, run_number: int, time_left: Callable[[], int]):
        claims = json.loads(job.caller)
        self.tenant = job.pk.split("#", 2)[1]
        who = Caller(sub=job.owner, name=claims["name"], tenant=self.tenant, rights=frozenset(claims["rights"]),
                     org_units=frozenset(claims["org_units"]))
        self.job, self.run_number, self.time_left = job, run_number, time_left
        self.page = Report(who, reports.BY_NAME[job.view], tuple(json.loads(job.args).items())).page
        self.query = _query_of(json.loads(job.list_query))
        if job.cursor:
            self.query = replace(self.query, cursor=job.cursor)
        self.columns = list(job.columns or [])
        self.key = f"exports/{self.tenant}/{job.export_id}.csv"
        self.buffer, self.rows = io.StringIO(), 0

    def write(self) -> str:
        limits, pages_read = config(), 0
        while not self.job.rows_done:
            if pages_read and self._time_short():
                return self._continue_later()
            result = self.page(self.query)
            pages_read += 1
            self._rows(result["items"])
            next_cursor = result.get("next_cursor")
            if next_cursor:
                self.query = replace(self.query, cursor=next_cursor)
            elif not self.job.chunk_runs:  # the whole report in one run: one object
                self._put_whole()
                return "done"
            if not next_cursor or self.buffer.tell() >= limits.export_chunk_bytes:
                self._commit(next_cursor)
        if pages_read and self._time_short():
            return self._continue_later()  # joining the chunks gets a run of its own
        self._join()
        return "done"

    def _time_short(self) -> bool:
        return self.time_left() < config().export_reserve_seconds * 1000

    def _continue_later(self) -> str:
        if not self.job.rows_done and (self.buffer.tell() or self.query.cursor != self.job.cursor):
            self._commit(self.query.cursor)
        _release(self.job, self.run_number, failed=False)
        _enqueue(self.tenant, self.job.export_id, after_run=self.run_number)
        metrics.add_metric(name="ExportRunsContinued", unit="Count", value=1)
        return "continued"

    def _rows(self, items: list[dict[str, Any]]) -> None:
        """Rows with a cell per column known so far; cells as inline reports write them."""
        writer = csv.writer(self.buffer)
        known = set(self.columns)
        for item in items:
            row = flat(item)
            self.columns += [name for name in row if name not in known]
            known.update(row)
            writer.writerow([cell(row.get(name)) for name in self.columns])
            self.rows += 1

    def _take(self) -> bytes:
        data = self.buffer.getvalue().encode()
        self.buffer = io.StringIO()
        return data

    def _header(self) -> bytes:
        out = io.StringIO()
        csv.writer(out).writerow(self.columns)
        return out.getvalue().encode()

    def _chunk_key(self, number: int, run: int) -> str:
        return f"exports/{self.tenant}/{self.job.export_id}/chunk-{number:06d}-{run}.csv"

    def _chunk_keys(self) -> list[str]:
        return [self._chunk_key(number, int(run)) for number, run in enumerate(self.job.chunk_runs or [])]

    def _commit(self, next_cursor: str | None) -> None:
        """The chunk (if any rows) to S3, then the job's progress; `next_cursor` None: the last rows."""
        from msglog.aws import client

        data = self._take()
        actions: list[Action] = [ExportJob.columns.set(self.columns), ExportJob.rows.add(self.rows),
                                 ExportJob.size.add(len(data))]
        if data:
            runs = [*(self.job.chunk_runs or []), self.run_number]
            client("s3").put_object(Bucket=config().export_bucket, Key=self._chunk_key(len(runs) - 1, self.run_number),
                                    Body=data, ContentType="text/csv", ServerSideEncryption="AES256")
            actions.append(ExportJob.chunk_runs.set(runs))
        actions += [ExportJob.cursor.set(next_cursor)] if next_cursor else [ExportJob.cursor.remove(),
                                                                             ExportJob.rows_done.set(True)]
        self.job.update(actions=actions, condition=ExportJob.runs == self.run_number)
        metrics.add_metric(name="ExportRowsWritten", unit="Count", value=self.rows)
        self.rows = 0

    def _put_whole(self) -> None:
        from msglog.aws import client

        body = self._header() + self._take()
        client("s3").put_object(Bucket=config().export_bucket, Key=self.key, Body=body, ContentType="text/csv",
                                ServerSideEncryption="AES256")
        self._done([ExportJob.rows.add(self.rows), ExportJob.size.add(len(body)), ExportJob.columns.set(self.columns)])
        metrics.add_metric(name="ExportRowsWritten", unit="Count", value=self.rows)

    def _join(self) -> None:
        """The header and the chunks, in order, as one file: parts of EXPORT_PART_BYTES (S3: >= 5 MiB but
        the last). A retry joins again into a new upload (the bucket aborts a left-over one after a day)."""
        from msglog.aws import client

        s3, bucket, part_bytes = client("s3"), config().export_bucket, config().export_part_bytes
        header = self._header()
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key=self.key, ContentType="text/csv",
                                               ServerSideEncryption="AES256")["UploadId"]
        parts: list[dict[str, Any]] = []

        def upload(data: bytes) -> None:
            etag = s3.upload_part(Bucket=bucket, Key=self.key, UploadId=upload_id, PartNumber=len(parts) + 1,
                                  Body=data)["ETag"]
            parts.append({"PartNumber": len(parts) + 1, "ETag": etag})

        pending = header
        for key in self._chunk_keys():
            pending += s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            if len(pending) >= part_bytes:
                upload(pending)
                pending = b""
        if pending or not parts:
            upload(pending)
        s3.complete_multipart_upload(Bucket=bucket, Key=self.key, UploadId=upload_id, MultipartUpload={"Parts": parts})
        self._done([ExportJob.size.add(len(header))])
        chunks = [{"Key": key} for key in self._chunk_keys()]
        for start in range(0, len(chunks), 1000):  # the bucket's lifecycle removes what this leaves
            s3.delete_objects(Bucket=bucket, Delete={"Objects": chunks[start:start + 1000], "Quiet": True})

    def _done(self, actions: list[Any]) -> None:
        self.job.update(actions=[*actions, ExportJob.status.set("done"), ExportJob.finished_at.set(iso(now())),
                                 ExportJob.object_key.set(self.key), ExportJob.cursor.remove(),
                                 ExportJob.lease_until.remove(), ExportJob.holder.remove()],
                        condition=ExportJob.runs == self.run_number)
        metrics.add_metric(name="ExportsCompleted", unit="Count", value=1)
        logger.info("export done", extra={"export_id": self.job.export_id, "view": self.job.view,
                                          "rows": int(self.job.rows), "chunks": len(self.job.chunk_runs or [])})
