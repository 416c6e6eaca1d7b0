"""Domain errors. `msglog.problems` maps each to its HTTP status and a problem+json body, in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    status = 500
    title = "Internal error"

    def __init__(self, detail: str, errors: list[FieldError] | None = None, code: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.code = code


class BadRequest(DomainError):
    status, title = 400, "Bad request"


class Unauthorized(DomainError):
    status, title = 401, "Unauthorized"


class Forbidden(DomainError):
    status, title = 403, "Forbidden"


class NotAcceptable(DomainError):
    status, title = 406, "Not acceptable"


class NotFound(DomainError):
    status, title = 404, "Not found"


class Conflict(DomainError):
    status, title = 409, "Conflict"


class PayloadTooLarge(DomainError):
    status, title = 413, "Payload too large"


class UnsupportedMediaType(DomainError):
    status, title = 415, "Unsupported media type"


class Unavailable(DomainError):
    status, title = 503, "Service unavailable"


def invalid(field: str, message: str) -> BadRequest:
    return BadRequest(f"{field}: {message}", [FieldError(field, message)])
