"""What every HTTP handler shares: the resolver, the one place that maps errors to HTTP
(problem+json, RFC 9457), the caller from the JWT claims, and the list-view query parameters.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel, ValidationError

from msglog.auth import Caller
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


def entrypoint(app: APIGatewayHttpResolver) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler: structured logs with the request's correlation id, traces and metrics
    (neither the event nor the response body is ever logged or traced)."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False,
                                  clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler


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
