"""Provider webhooks: one module per provider, each pure (parse, verify, normalise).

A module offers:
  read(request) -> payload                     400 (BadRequest) when the envelope is malformed
  verify(payload, credentials, request=, max_age_seconds=)   401 when the signature does not hold
  events(payload) -> list[ProviderEvent]       400 when an event is malformed
  replay_guard(payload) -> (token, digest) | None
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module
from types import ModuleType
from typing import Any

PROVIDERS = ("mailgun", "postmark", "sendgrid", "ses", "twilio")
# One answer for an unknown tenant and for any failed verification: tenants cannot be enumerated.
UNVERIFIED = "the webhook signature or credentials could not be verified"


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    body: bytes
    headers: dict[str, str]  # lower-case names
    url: str


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """One provider event in the service's vocabulary, keeping the provider's own words."""

    provider: str
    provider_event: str
    event: str
    event_id: str  # stable across the provider's retries: the idempotency key
    timestamp: datetime | None  # None: the provider gives none (the time we first saw the event is used)
    recipient: str
    channel: str
    message_id: str | None = None  # ours, from the provider's custom data
    provider_message_id: str | None = None
    reason: str | None = None
    severity: str | None = None
    error_code: str | None = None
    subject: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Malformed:
    """An item of a batch that could not be read: reported and kept raw; the rest is stored."""

    index: int
    errors: list  # msglog.errors.FieldError
    raw: str = ""  # the item as received (JSON), bounded


def json_body(request: WebhookRequest, kind: type, what: str) -> Any:
    """The request body as JSON of `kind` (dict or list); else a 400 naming the body."""
    import json

    from msglog.errors import invalid

    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise invalid("body", "is not JSON (or is nested too deeply)") from None
    if not isinstance(payload, kind):
        raise invalid("body", f"must be {what}")
    return payload


def check_age(timestamp: str, max_age_seconds: int, now: float | None = None) -> None:
    """The signed timestamp is at most `max_age_seconds` away from now (0: not checked); else 401."""
    import time

    from msglog.errors import Unauthorized

    if not max_age_seconds:
        return
    try:
        age = (now if now is not None else time.time()) - float(timestamp)
    except ValueError:
        raise Unauthorized(UNVERIFIED) from None
    if abs(age) > max_age_seconds:
        raise Unauthorized("the webhook timestamp is too old (or in the future)")


def text(value: object, limit: int = 1000) -> str | None:
    """A provider's free text (reason, subject…), trimmed and bounded; None if it is not text."""
    return value.strip()[:limit] or None if isinstance(value, str) else None


def iso_time(value: object, field: str, what: str) -> datetime:
    """An ISO 8601 time with offset, within what the service stores; else a 400 naming `field`."""
    from msglog.clock import in_range
    from msglog.errors import BadRequest, FieldError

    try:
        at = datetime.fromisoformat(value) if isinstance(value, str) else None
        if at is not None and at.tzinfo is not None:
            return in_range(at)
    except ValueError:
        pass
    raise BadRequest(f"the {what} is malformed", [FieldError(field, "must be an ISO 8601 time with offset, 1970-9999")])


def bounded_id(value: object, limit: int = 128) -> str | None:
    """A provider's own id, if usable in a key: text, no # or spaces, at most `limit` characters."""
    value = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    return value if isinstance(value, str) and 0 < len(value) <= limit and not any(c in value for c in "# \t\r\n") \
        else None


def our_message_id(value: object) -> str | None:
    """The message id a provider echoes from our custom data, if it can be one of ours (a ULID)."""
    from msglog.ids import is_ulid

    return value if isinstance(value, str) and is_ulid(value) else None


def strip_angle_brackets(value: object) -> object:
    """`<id@domain>` as `id@domain`: providers write message ids both ways, we key them one way."""
    return value.strip().removeprefix("<").removesuffix(">").strip() if isinstance(value, str) else value


def provider_message_id(value: object) -> str | None:
    """A provider's message id (angle brackets dropped), if usable as a key: no spaces or #, ≤ 256."""
    if not isinstance(value, str):
        return None
    value = str(strip_angle_brackets(value))
    return value if 0 < len(value) <= 256 and not any(c in value for c in "# \t\r\n") else None


def module(provider: str) -> ModuleType | None:
    if provider not in PROVIDERS:
        return None
    return import_module(f"msglog.providers.{provider}")
