"""Provider webhooks: one module per provider, each pure (parse, verify, normalise).

A module offers:
  read(request) -> payload                     400 (BadRequest) when the envelope is malformed
  verify(payload, credentials, request=, max_age_seconds=)   401 when the signature does not hold
  events(payload) -> list[ProviderEvent]       400 when an event is malformed
  request_key(payload) -> RequestKey | None   the stable id the provider signs, if it has one
  MAPPERS                                      its event names -> mappers onto ours: its mapping as a table
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module
from types import ModuleType
from typing import Any

PROVIDERS = ("mailgun", "postmark", "sendgrid", "ses", "twilio")
# One answer for an unknown tenant and for any failed verification: tenants cannot be enumerated.
UNVERIFIED = "the webhook signature or credentials could not be verified"
# One answer for a stale, a malformed and an absurd signed timestamp: each is a signature not to honour.
STALE = "the webhook timestamp is too old (or in the future)"
SIGNED_TIME = re.compile(r"[0-9]{1,12}")  # Unix seconds as Mailgun and SendGrid sign them: digits only
FUTURE_SKEW_SECONDS = 86_400  # with the age check off, a signed time may still be at most this far ahead


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
    # The provider refused to send because the address is on its own suppression list: why
    # ("bounce", "unsubscribe", "complaint"); msglog.suppressions puts it on ours too.
    held: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RequestKey:
    """What identifies one webhook request across the provider's retries, as the provider signs it: the
    ingestion log keys the request's row by it, and refuses it with other content (msglog.ingestion_log.claim)."""

    signed: str  # the stable id as signed (Mailgun: timestamp + token; SNS: MessageId)
    at: datetime  # a time the id fixes (the row's place in time order)
    digest: str  # of the content it came with: a retry brings the same


def content_digest(content: object) -> str:
    """A digest of a request's content (JSON of it, keys sorted)."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# The most characters each stored text field of an event may hold, in one place: a longer one makes
# the event malformed. DynamoDB refuses an item over 400 KB, and a provider's retry of a refused
# item would meet the same refusal for ever. Free text (reason, subject) is cut where it is read (`text`).
LIMITS = {"provider_event": 128, "event": 32, "event_id": 320, "recipient": 320, "channel": 16, "message_id": 26,
          "provider_message_id": 256, "reason": 1000, "severity": 32, "error_code": 64, "subject": 998}
EXTRA_LIMIT = 1000  # characters of each `extra` name and value together


@dataclass(frozen=True, slots=True)
class Malformed:
    """An item of a batch that could not be read: reported and kept raw; the rest is stored."""

    index: int
    errors: list  # msglog.errors.FieldError
    raw: str = ""  # the item as received (JSON), whole: the ingestion log keeps its start
    raw_key: str | None = None  # where the whole of a longer one is kept (msglog.parking.keep)


# Each provider module reads as a table, MAPPERS: the provider's event name -> a small mapper from the
# event's fields to our event name (SES's also say where the time and the recipients are).
Mapper = Callable[[dict[str, Any]], str]


def fixed(event: str) -> Mapper:
    """The mapper of a provider event that always means the same one of ours."""
    return lambda _fields: event


unknown = fixed("unknown")  # a provider event no table names


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


def check_age(timestamp: object, max_age_seconds: int, now: float | None = None) -> None:
    """The signed timestamp is Unix seconds in decimal digits, at most `max_age_seconds` away from now
    (0: its age is not checked, but it is at most a day ahead); else 401. Digits only, because
    `float()` would also read "nan" (which no comparison refuses), "1e3", " 17…" and "17_0…": forms
    that let one signed string be split into timestamp and token in more than one way."""
    from msglog.errors import Unauthorized

    current = now if now is not None else time.time()
    if not isinstance(timestamp, str) or not SIGNED_TIME.fullmatch(timestamp):
        raise Unauthorized(STALE)
    ahead = int(timestamp) - current
    if (abs(ahead) > max_age_seconds) if max_age_seconds else ahead > FUTURE_SKEW_SECONDS:
        raise Unauthorized(STALE)


def bounded(event: ProviderEvent, problem: str, sources: dict[str, str] | None = None) -> ProviderEvent:
    """`event` if each of its stored text fields is within LIMITS; else a 400 (`problem`) naming each
    field too long as the provider calls it (`sources`: ProviderEvent field -> the provider's name)."""
    from msglog.errors import BadRequest, FieldError

    too_long = [(name, limit) for name, limit in LIMITS.items() if len(getattr(event, name) or "") > limit]
    too_long += [(f"extra.{name[:64]}", EXTRA_LIMIT) for name, value in event.extra.items()
                 if len(name) + len(value) > EXTRA_LIMIT]
    if too_long:
        raise BadRequest(problem, [FieldError((sources or {}).get(name, name), f"is longer than {limit} characters")
                                   for name, limit in too_long])
    return event


def json_object(value: object) -> dict[str, Any]:
    """A nested object of a payload, or {} when the provider sent something else there."""
    return value if isinstance(value, dict) else {}


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
