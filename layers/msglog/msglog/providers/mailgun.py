"""Mailgun webhooks (JSON: {"signature": {...}, "event-data": {...}}).

Signature: hex HMAC-SHA256(signing key, timestamp + token); only those two are signed, so what
they sign — the one string timestamp + token — keys the request's ingestion-log row (request_key), and
seen again with other content is refused. Remembering the token alone let a captured request be re-split (timestamp
`ts + "e0"`, token `token[2:]`: the same signed string) and pass as fresh. Only the documented shapes
are taken: a timestamp of decimal digits (msglog.providers.check_age) and a token of letters and
digits (50 in Mailgun's own; hex in its docs, lower-case alphanumerics in mailgun-php's test vector).

Event mapping onto SPEC's vocabulary (docs/providers.md):
  accepted → accepted · rejected → rejected · delivered → delivered ·
  failed/permanent → bounced when the receiving server refused it (reason "bounce", or an SMTP
  5xx code), else failed (e.g. suppress-bounce: "Not delivering to previously bounced
  address") · failed/temporary → deferred · opened → opened · clicked → clicked ·
  complained → complained · unsubscribed → unsubscribed · stored → stored (informational) ·
  anything else → unknown.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from msglog.addresses import EMAIL
from msglog.clock import from_epoch
from msglog.errors import BadRequest, FieldError, Unauthorized, invalid
from msglog.providers import (
    UNVERIFIED,
    Mapper,
    ProviderEvent,
    RequestKey,
    WebhookRequest,
    bounded,
    check_age,
    content_digest,
    fixed,
    json_body,
    our_message_id,
    provider_message_id,
    text,
    unknown,
)

NAME = "mailgun"
BAD_SIGNATURE = UNVERIFIED
TOKEN = re.compile(r"[A-Za-z0-9]{1,256}")
LEADING_SECONDS = re.compile(r"[0-9]{1,10}")
# Mailgun's reasons for not sending to an address on its own lists, and ours for suppressing it.
HELD = {"suppress-bounce": "bounce", "suppress-unsubscribe": "unsubscribe", "suppress-complaint": "complaint"}
_SUPPRESSED = frozenset({"suppress-bounce", "suppress-unsubscribe", "suppress-complaint", "old", "espblock"})


def read(request: WebhookRequest) -> dict[str, Any]:
    payload = json_body(request, dict, "a JSON object with signature and event-data")
    if not isinstance(payload.get("event-data"), dict):
        raise invalid("event-data", "is missing or not an object")
    return payload


def verify(payload: dict[str, Any], credentials: list[dict[str, Any]], *, request: WebhookRequest,
           max_age_seconds: int, now: float | None = None) -> None:
    check_signature(payload.get("signature"), [c["signing_key"] for c in credentials],
                    max_age_seconds=max_age_seconds, now=now)


def check_signature(signature: Any, signing_keys: list[str], *, max_age_seconds: int, now: float | None = None) -> None:
    """Mailgun's scheme; any of the tenant's keys (two while one is rotated) may have signed."""
    if not isinstance(signature, dict):
        raise Unauthorized(BAD_SIGNATURE)
    timestamp, token, given = _fields(signature)
    if not (timestamp and given) or not TOKEN.fullmatch(token) or len(given) > 128:
        raise Unauthorized(BAD_SIGNATURE)
    message, given_bytes = (timestamp + token).encode(), given.lower().encode()  # bytes: any text compares
    if not any(
        hmac.compare_digest(hmac.new(key.encode(), message, hashlib.sha256).hexdigest().encode(), given_bytes)
        for key in signing_keys
    ):
        raise Unauthorized(BAD_SIGNATURE)
    check_age(timestamp, max_age_seconds, now)


def _fields(signature: dict[str, Any]) -> tuple[str, str, str]:
    """timestamp, token and signature as text (Mailgun's own examples give the timestamp as a number)."""
    timestamp, token, given = (str(signature.get(k) or "") for k in ("timestamp", "token", "signature"))
    return timestamp, token, given


def request_key(payload: dict[str, Any]) -> RequestKey:
    """What is signed (timestamp + token, however split), the time it fixes, and a digest of the content
    it came with: one signed string, one content. The time is read from the signed string's leading
    digits (ten: Unix seconds until 2286), not from the timestamp field: moving digits between timestamp
    and token (the signature cannot tell) must not move the request's row to another key."""
    timestamp, token, _ = _fields(payload["signature"])
    signed = timestamp + token
    seconds = LEADING_SECONDS.match(signed)
    return RequestKey(signed, from_epoch(int(seconds.group()) if seconds else 0), content_digest(payload["event-data"]))


def _object(value: Any) -> dict[str, Any]:
    """A nested object of the event, or {} when the provider sent something else."""
    return value if isinstance(value, dict) else {}


def _reason(data: dict[str, Any]) -> str | None:
    status, reject = _object(data.get("delivery-status")), _object(data.get("reject"))
    for candidate in (
        status.get("message"),
        status.get("description"),
        reject.get("reason"),
        reject.get("description"),
    ):
        if (words := text(candidate)) and words.upper() != "OK":
            return words
    return text(data.get("reason"))


def _code(data: dict[str, Any]) -> int | str | None:
    code = _object(data.get("delivery-status")).get("code")
    return code if isinstance(code, int | str) and not isinstance(code, bool) and str(code).strip() else None


def _failed(data: dict[str, Any]) -> str:
    if data.get("severity") == "temporary":
        return "deferred"
    reason = data.get("reason")
    code = _code(data)
    if reason in _SUPPRESSED:
        return "failed"
    if reason == "bounce" or (isinstance(code, int) and 500 <= code < 600):
        return "bounced"
    return "failed"


def _malformed(data: dict[str, Any]) -> list[FieldError]:
    """The fields every event needs, each named when it is missing or unusable."""
    errors = []
    name, event_id, recipient, ts = data.get("event"), data.get("id"), data.get("recipient"), data.get("timestamp")
    if not isinstance(name, str) or not name:
        errors.append(FieldError("event-data.event", "is required"))
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 128 or "#" in event_id:
        errors.append(FieldError("event-data.id", "is required (at most 128 characters, no #)"))
    if not isinstance(recipient, str) or not EMAIL.match(recipient.strip()) or len(recipient) > 254:
        errors.append(FieldError("event-data.recipient", "must be an e-mail address"))
    if isinstance(ts, bool) or not isinstance(ts, int | float) or not 0 < ts < 32503680000:
        errors.append(FieldError("event-data.timestamp", "must be seconds since the epoch"))
    return errors


# Mailgun's event name -> our event (any other name: unknown).
MAPPERS: dict[str, Mapper] = {
    "accepted": fixed("accepted"), "rejected": fixed("rejected"), "delivered": fixed("delivered"),
    "failed": _failed, "opened": fixed("opened"), "clicked": fixed("clicked"), "complained": fixed("complained"),
    "unsubscribed": fixed("unsubscribed"), "stored": fixed("stored"),
}
_NO_REASON = frozenset({"accepted", "delivered", "opened", "clicked", "stored"})  # events that went well
_NO_ERROR_CODE = frozenset({"delivered", "accepted"})  # their delivery-status code is the 250 of a success


def _error_code(data: dict[str, Any], event: str) -> str | None:
    code = _code(data)
    return str(code) if code is not None and event not in _NO_ERROR_CODE else None


def _held(name: str, data: dict[str, Any]) -> str | None:
    reason = data.get("reason")
    return HELD.get(reason) if name == "failed" and isinstance(reason, str) else None


def normalize(data: dict[str, Any]) -> ProviderEvent:
    """One Mailgun `event-data` object as a ProviderEvent (pure)."""
    if errors := _malformed(data):
        raise BadRequest("the Mailgun event is malformed", errors)
    name = data["event"]
    event = MAPPERS.get(name, unknown)(data)
    headers = _object(_object(data.get("message")).get("headers"))
    return bounded(ProviderEvent(
        provider=NAME,
        provider_event=name,
        event=event,
        event_id=f"mailgun.{data['id']}",
        timestamp=from_epoch(float(data["timestamp"])),
        recipient=data["recipient"],
        channel="email",
        message_id=our_message_id(_object(data.get("user-variables")).get("message_id")),
        provider_message_id=provider_message_id(headers.get("message-id")),
        reason=None if event in _NO_REASON else _reason(data),
        severity=text(data.get("severity"), 32),
        error_code=_error_code(data, event),
        subject=text(headers.get("subject"), 998),
        held=_held(name, data),
    ), "the Mailgun event is malformed", {"provider_event": "event-data.event",
                                          "error_code": "event-data.delivery-status.code"})


def events(payload: dict[str, Any]) -> list[ProviderEvent]:
    return [normalize(payload["event-data"])]
