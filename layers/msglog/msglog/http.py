"""What every HTTP handler shares: the resolver, the one place that maps errors to HTTP
(problem+json, RFC 9457), the caller from the JWT claims, and the list-view query parameters.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel, ValidationError

from msglog.auth import TENANT_ID, Caller
from msglog.errors import BadRequest, DomainError, FieldError
from msglog.listing import ListQuery
from msglog.schemas import Instant

PROBLEM = "application/problem+json"
logger = Logger()
tracer = Tracer()
metrics = Metrics()

Limit = Annotated[int, Query(ge=1, le=200, description="page size")]
Cursor = Annotated[str | None, Query(max_length=8192, description="next_cursor of the previous page")]
From = Annotated[Instant | None, Query(alias="from", description="ISO 8601 with offset, inclusive")]
To = Annotated[Instant | None, Query(description="ISO 8601 with offset, inclusive")]
Search = Annotated[str | None, Query(max_length=200, description="case-insensitive text search")]
Order = Annotated[Literal["desc", "asc"], Query(description="newest first by default")]
Sort = Annotated[Literal["date"], Query(description="sort field (date)")]
Filter = Annotated[str | None, Query(max_length=320)]
Format = Annotated[Literal["json", "csv"], Query(alias="format", description="csv: a printable report of the rows")]
CSV_MAX_ROWS = 5_000
CSV_MAX_BYTES = 5_000_000  # under Lambda's 6 MB answer
CSV_MAX_SECONDS = 15  # well under API Gateway's 30 s


def problem(status: int, title: str, detail: str, errors: list[FieldError] | None = None,
            code: str | None = None) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    if code:
        body["code"] = code
    return Response(status_code=status, content_type=PROBLEM, body=json.dumps(body))


def _field(location: tuple[Any, ...]) -> str:
    parts = list(location[1:]) if location and location[0] in ("body", "query", "path", "header") else list(location)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def field_errors(errors: list[dict[str, Any]]) -> list[FieldError]:
    return [FieldError(_field(tuple(e.get("loc", ()))), str(e.get("msg", "is invalid"))) for e in errors]


_THROTTLING = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})


def _throttled(error: BaseException) -> bool:
    """pynamodb wraps botocore's ClientError; throttling that outlasted the retries is a 503."""
    while error is not None:
        code = getattr(error, "cause_response_code", None) or (getattr(error, "response", None) or {}).get("Error", {}).get("Code")
        if code in _THROTTLING:
            return True
        error = error.__cause__
    return False


def create_app() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)

    @app.exception_handler(DomainError)
    def _domain(error: DomainError) -> Response:
        logger.info("request refused", extra={"status": error.status, "code": error.code,
                                              "fields": [e.field for e in error.errors]})
        return problem(error.status, error.title, error.detail, error.errors, error.code)

    @app.exception_handler(RequestValidationError)
    def _validation(error: RequestValidationError) -> Response:
        errors = field_errors(error.errors())
        if any(e.field == "body" and "JSON" in e.message for e in errors):
            return problem(400, "Bad request", "the body is not valid JSON", [FieldError("body", "is not valid JSON")])
        return problem(400, "Bad request", "the request is not valid", errors)

    @app.exception_handler(json.JSONDecodeError)
    def _not_json(_: json.JSONDecodeError) -> Response:
        return problem(400, "Bad request", "the body is not valid JSON", [FieldError("body", "is not valid JSON")])

    @app.exception_handler(RecursionError)
    def _too_deep(_: RecursionError) -> Response:
        return problem(400, "Bad request", "the body is nested too deeply", [FieldError("body", "is nested too deeply")])

    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(_: UnicodeDecodeError) -> Response:
        return problem(400, "Bad request", "the body is not UTF-8", [FieldError("body", "is not UTF-8 text")])

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        # Logged with its traceback (never the event); the client gets an id to quote, not internals.
        logger.exception("unhandled error")
        request_id = app.current_event.request_context.request_id
        if _throttled(error):
            return problem(503, "Service unavailable", f"the table is busy; retry shortly (request {request_id})",
                           code="THROTTLED")
        return problem(500, "Internal error", f"something failed on our side (request {request_id})")

    @app.not_found
    def _no_route(_: Exception) -> Response:
        return problem(404, "Not found", "no such route")

    return app


def entrypoint(app: APIGatewayHttpResolver, *, api_log: bool = True,
               json_only: bool = True) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler: structured logs with the request's correlation id, traces and metrics
    (neither the event nor the response body is ever logged or traced), bodies other than JSON
    refused with 415 before anything parses them, and — for the JWT routes — one line in the
    tenant's API request log per call."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False,
                                  clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        response = (json_only and _not_json(event)) or app.resolve(event, context)
        if api_log:
            _log_call(event, int(response.get("statusCode") or 0))
        return response

    return handler


def _not_json(event: dict[str, Any]) -> dict[str, Any] | None:
    if not event.get("body"):
        return None
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    media = (headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return None
    body = {"type": "about:blank", "title": "Unsupported media type", "status": 415,
            "detail": "send the body as application/json",
            "errors": [{"field": "Content-Type", "message": "must be application/json"}]}
    return {"statusCode": 415, "headers": {"Content-Type": PROBLEM}, "body": json.dumps(body),
            "isBase64Encoded": False}


def _log_call(event: dict[str, Any], status: int) -> None:
    """The API request log: who called what and how it ended. Best effort — a failed log write is
    logged and counted, never turned into a failed call."""
    context = event.get("requestContext") or {}
    claims = ((context.get("authorizer") or {}).get("jwt") or {}).get("claims") or {}
    tenant, sub = str(claims.get("tenant_id") or ""), str(claims.get("sub") or "")
    if not TENANT_ID.match(tenant) or not sub:
        return  # no tenant to log to (the gateway's access log has these)
    request = context.get("http") or {}
    from msglog import records

    try:
        records.api_call(tenant, caller_id=sub, caller_name=claims.get("name"), method=request.get("method", ""),
                         path=event.get("rawPath") or "", route=str(event.get("routeKey") or "").partition(" ")[2],
                         status=status, ip=request.get("sourceIp"), user_agent=(request.get("userAgent") or "")[:500],
                         request_id=context.get("requestId"))
    except Exception:  # noqa: BLE001 - the call itself succeeded or failed on its own account
        logger.warning("the API request log could not be written", exc_info=True)
        metrics.add_metric(name="ApiLogWriteFailed", unit="Count", value=1)


def caller(app: APIGatewayHttpResolver) -> Caller:
    who = Caller.from_claims(app.current_event.request_context.authorizer.jwt_claim)
    logger.append_keys(tenant_id=who.tenant, caller=who.sub)  # every later log line of this request
    return who


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise BadRequest("the request is not valid", field_errors(error.errors())) from None


def list_query(limit: int, cursor: str | None, start: datetime | None, end: datetime | None, q: str | None,
               order: str, **filters: str | None) -> ListQuery:
    if start and end and start > end:
        raise BadRequest("from is after to", [FieldError("from", "must not be after to")])
    return ListQuery(limit=limit, cursor=cursor, start=start, end=end, q=q or None, order=order,
                     filters=tuple(sorted((k, v) for k, v in filters.items() if v)))


def listing(fmt: str, page: Callable[[ListQuery], dict[str, Any]], query: ListQuery) -> dict[str, Any] | Response:
    """A list view as JSON (one page), or as CSV: pages followed here up to CSV_MAX_ROWS, bytes and
    seconds; the `X-Next-Cursor` header continues a longer report."""
    if fmt != "csv":
        return page(query)
    started, rows, text_size = time.monotonic(), [], 0
    while True:
        result = page(query)
        batch = [flat(item) for item in result["items"]]
        rows += batch
        text_size += sum(len(str(value)) + 1 for row in batch for value in row.values())
        cursor_ = result.get("next_cursor")
        if not cursor_ or len(rows) >= CSV_MAX_ROWS or text_size >= CSV_MAX_BYTES \
                or time.monotonic() - started > CSV_MAX_SECONDS:
            break
        query = replace(query, cursor=cursor_)
    return csv_response(rows, cursor_)


def csv_response(rows: list[dict[str, Any]], next_cursor: str | None = None) -> Response:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    headers = {"Content-Disposition": 'attachment; filename="report.csv"'}
    if next_cursor:
        headers["X-Next-Cursor"] = next_cursor
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=out.getvalue(), headers=headers)


def flat(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested fields as dotted columns (sender.name); lists as one cell."""
    out: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        elif isinstance(value, list):
            out[f"{prefix}{key}"] = "; ".join(json.dumps(v) if isinstance(v, dict) else str(v) for v in value)
        else:
            out[f"{prefix}{key}"] = value
    return out


def _cell(value: Any) -> Any:
    """No spreadsheet formulas from data: a cell starting with = + - @ is quoted as text."""
    if value is None:
        return ""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.match(text) else text


_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
