"""What every HTTP handler with a resolver shares: the resolver and its error answers
(msglog.problems), the caller from the JWT claims, and the list-view query parameters.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel, ValidationError

from msglog import problems
from msglog.auth import Caller, bearer_claims, is_tenant_id
from msglog.errors import BadRequest, FieldError
from msglog.fields import Instant
from msglog.listing import ListQuery
from msglog.problems import PROBLEM, field_errors, for_error
from msglog.telemetry import logger, metrics, tracer

Limit = Annotated[int, Query(ge=1, le=200, description="page size")]
Cursor = Annotated[str | None, Query(max_length=8192, description="next_cursor of the previous page")]
From = Annotated[Instant | None, Query(alias="from", description="ISO 8601 with offset, inclusive")]
To = Annotated[Instant | None, Query(description="ISO 8601 with offset, inclusive")]
Search = Annotated[str | None, Query(max_length=200, description="case-insensitive text search")]
Order = Annotated[Literal["desc", "asc"], Query(description="newest first by default")]
Sort = Annotated[Literal["date", "recipient", "status"], Query(
    description="date: the view's own order; recipient, status: where the view offers them, for a range of at "
                "most 1,000 items (README: sort per view); elsewhere 400 naming sort")]
Filter = Annotated[str | None, Query(max_length=320)]
Format = Annotated[Literal["json", "csv"], Query(alias="format", description="csv: a printable report of the rows")]
Async = Annotated[bool | None, Query(
    alias="async", description="format=csv: true runs the report as an export job (202, then GET /v1/exports/{id}); "
                               "false never does (a report over the inline limits is cut; X-Next-Cursor continues it); "
                               "unset: inline when it fits, else a job")]


def problem(status: int, title: str, detail: str, errors: list[FieldError] | None = None,
            code: str | None = None) -> Response:
    return _response(problems.body(status, title, detail, errors, code))


def _response(document: dict[str, Any]) -> Response:
    return Response(status_code=document["status"], content_type=PROBLEM, body=json.dumps(document))


def create_app() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)

    @app.exception_handler(RequestValidationError)
    def _validation(error: RequestValidationError) -> Response:
        errors = field_errors(error.errors())
        if any(e.field == "body" and "JSON" in e.message for e in errors):
            return problem(400, "Bad request", "the body is not valid JSON", [FieldError("body", "is not valid JSON")])
        return problem(400, "Bad request", "the request is not valid", errors)

    @app.exception_handler(Exception)
    def _any(error: Exception) -> Response:
        return _response(for_error(error, app.current_event.request_context.request_id))

    @app.not_found
    def _no_route(_: Exception) -> Response:
        return problem(404, "Not found", "no such route")

    app.use([_known_parameters_only])
    return app


def _known_parameters_only(app: APIGatewayHttpResolver, next_middleware: Callable[..., Response]) -> Response:
    """A query parameter the route does not take is a 400 naming it: a typo (`custmer=`) would
    otherwise answer rows the caller did not ask for, as if they were what it asked for."""
    route = app.context.get("_route")
    given = app.current_event.query_string_parameters or {}
    if route is not None and given:
        known = {field.alias for field in route.dependant.query_params}
        if unknown := sorted(set(given) - known):
            return problem(400, "Bad request", f"unknown query parameter: {', '.join(unknown)}",
                           [FieldError(name, "is not a parameter of this route") for name in unknown])
    return next_middleware(app)


def entrypoint(app: APIGatewayHttpResolver, *, api_log: bool = True,
               json_only: bool = True) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler: structured logs with the request's correlation id, traces and metrics
    (neither the event nor the response body is ever logged or traced), bodies other than JSON
    refused with 415 and JSON that is not an object with 400 before anything parses them, and — for
    the JWT routes — one line in the tenant's API request log per call."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False,
                                  clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        response = (json_only and _refused_body(event)) or app.resolve(event, context)
        if api_log:
            _log_call(event, int(response.get("statusCode") or 0))
        return response

    return handler


def _refused_body(event: dict[str, Any]) -> dict[str, Any] | None:
    if not event.get("body"):
        return None
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    media = (headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if not (media == "application/json" or media.endswith("+json")):
        return problems.answer(415, problems.body(415, "Unsupported media type", "send the body as application/json",
                                                  [FieldError("Content-Type", "must be application/json")]), PROBLEM)
    if not _opens_an_object(event["body"], base64_encoded=bool(event.get("isBase64Encoded"))):
        return problems.answer(400, problems.body(400, "Bad request", "the body must be a JSON object",
                                                  [FieldError("body", "must be a JSON object")]), PROBLEM)
    return None


def _opens_an_object(body: str, *, base64_encoded: bool) -> bool:
    """Every body this API documents is a JSON object; the resolver's validation would read a JSON
    array's first element as the body. Its first character decides, without parsing it twice."""
    if not base64_encoded:
        return body[:4096].lstrip(" \t\r\n").startswith("{")
    head = body[:4096]
    try:
        data = base64.b64decode(head[:len(head) // 4 * 4])
    except ValueError:
        return False
    return data.lstrip(b" \t\r\n").startswith(b"{")


def _log_call(event: dict[str, Any], status: int) -> None:
    """The API request log: who called what and how it ended. Best effort — a failed log write is
    logged and counted, never turned into a failed call."""
    context = event.get("requestContext") or {}
    claims = ((context.get("authorizer") or {}).get("jwt") or {}).get("claims") or {}
    tenant, sub = str(claims.get("tenant_id") or ""), str(claims.get("sub") or "")
    if not is_tenant_id(tenant) or not sub:
        return  # no tenant to log to (the gateway's access log has these)
    request = context.get("http") or {}
    from msglog import tenant_log_writer  # with the table's model: not for the health check's cold start

    try:
        tenant_log_writer.api_call(
            tenant, caller_id=sub, caller_name=claims.get("name"), method=request.get("method", ""),
            path=event.get("rawPath") or "", route=str(event.get("routeKey") or "").partition(" ")[2],
            status=status, ip=request.get("sourceIp"), user_agent=(request.get("userAgent") or "")[:500],
            request_id=context.get("requestId"))
    except Exception:  # noqa: BLE001 - the call itself succeeded or failed on its own account
        logger.warning("the API request log could not be written", exc_info=True)
        metrics.add_metric(name="ApiLogWriteFailed", unit="Count", value=1)


def caller(app: APIGatewayHttpResolver) -> Caller:
    event = app.current_event
    who = Caller.from_claims(event.request_context.authorizer.jwt_claim,
                             signed=bearer_claims(event.headers.get("authorization")))
    logger.append_keys(tenant_id=who.tenant, caller=who.sub)  # every later log line of this request
    return who


def parse[M: BaseModel](model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise BadRequest("the request is not valid", field_errors(error.errors())) from None


def list_query(limit: int, cursor: str | None, start: datetime | None, end: datetime | None, q: str | None,
               order: str, *, sort: str = "date", **filters: str | None) -> ListQuery:
    if start and end and start > end:
        raise BadRequest("from is after to", [FieldError("from", "must not be after to")])
    return ListQuery(limit=limit, cursor=cursor, start=start, end=end, q=q or None, order=order, sort=sort,
                     filters=tuple(sorted((k, v) for k, v in filters.items() if v)))
