"""The one place that maps errors to HTTP: problem+json (RFC 9457) bodies with the fields at fault."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from msglog.errors import DomainError, FieldError
from msglog.telemetry import logger

PROBLEM = "application/problem+json"
_THROTTLING = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})


def _field(location: tuple[Any, ...]) -> str:
    parts = list(location[1:]) if location and location[0] in ("body", "query", "path", "header") else list(location)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def field_errors(errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    """pydantic's errors as the fields at fault (`recipients[2].address`), for problem+json."""
    return [FieldError(_field(tuple(e.get("loc", ()))), str(e.get("msg", "is invalid"))) for e in errors]


def body(status: int, title: str, detail: str, errors: list[FieldError] | None = None,
         code: str | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        document["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    if code:
        document["code"] = code
    return document


def for_error(error: BaseException, request_id: str | None) -> dict[str, Any]:
    """The problem an error becomes: a domain error says its own status; bodies that cannot be read
    are 400; throttling that outlasted the retries is 503; anything else is 500, logged with its
    traceback (never the event), and the client gets the request id to quote, not internals."""
    if isinstance(error, DomainError):
        logger.info("request refused", extra={"status": error.status, "code": error.code,
                                              "fields": [e.field for e in error.errors]})
        return body(error.status, error.title, error.detail, error.errors, error.code)
    if isinstance(error, json.JSONDecodeError):
        return body(400, "Bad request", "the body is not valid JSON", [FieldError("body", "is not valid JSON")])
    if isinstance(error, RecursionError):
        return body(400, "Bad request", "the body is nested too deeply", [FieldError("body", "is nested too deeply")])
    if isinstance(error, UnicodeDecodeError):
        return body(400, "Bad request", "the body is not UTF-8", [FieldError("body", "is not UTF-8 text")])
    logger.exception("unhandled error")
    if throttled(error):
        return body(503, "Service unavailable", f"the table is busy; retry shortly (request {request_id})",
                    code="THROTTLED")
    return body(500, "Internal error", f"something failed on our side (request {request_id})")


def throttled(error: BaseException | None) -> bool:
    """pynamodb wraps botocore's ClientError: look through the causes."""
    while error is not None:
        code = getattr(error, "cause_response_code", None) or (getattr(error, "response", None) or {}).get(
            "Error", {}
        ).get("Code")
        if code in _THROTTLING:
            return True
        error = error.__cause__
    return False


def answer(status: int, document: Any, content_type: str = "application/json") -> dict[str, Any]:
    """A Lambda proxy answer, for handlers that answer without a resolver."""
    return {"statusCode": status, "headers": {"Content-Type": content_type}, "body": json.dumps(document),
            "isBase64Encoded": False}
