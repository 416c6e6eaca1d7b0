"""Mailgun webhooks (JSON: {"signature": {...}, "event-data": {...}}).

Signature: hex HMAC-SHA256(signing key, timestamp + token); only those two are signed, so what
they sign — the one string timestamp + token — is also remembered (replay_guard) and seen again with
other content is refused. Remembering the token alone let a captured request be re-split (timestamp
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
import json
import re
from typing import Any

from msglog.addresses import EMAIL
from msglog.clock import from_epoch
from msglog.errors import BadRequest, FieldError, Unauthorized, invalid
from msglog.providers import (
    UNVERIFIED,
    ProviderEvent,
    WebhookRequest,
    bounded,
    check_age,
    json_body,
    our_message_id,
    provider_message_id,
    text,
)

NAME = "mailgun"
BAD_SIGNATURE = UNVERIFIED
_SIMPLE = {
    "accepted": "accepted", "rejected": "rejected", "delivered": "delivered", "opened": "opened",
    "clicked": "clicked", "complained": "complained", "unsubscribed": "unsubscribed", "stored": "stored",
}
TOKEN = re.compile(r"[A-Za-z0-9]{1,256}")
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


def replay_guard(payload: dict[str, Any]) -> tuple[str, str]:
    """What is signed (timestamp + token, however split) and a digest of the content it came with:
    one signed string, one content."""
    timestamp, token, _ = _fields(payload["signature"])
    content = json.dumps(payload["event-data"], sort_keys=True, separators=(",", ":"))
    return timestamp + token, hashlib.sha256(content.encode()).hexdigest()


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


def _required(data: dict[str, Any]) -> tuple[str, str, str, float]:
    """The event's name, id, recipient and time (seconds since the epoch), or a 400 naming each field at fault."""
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
    if errors or not (isinstance(name, str) and isinstance(event_id, str) and isinstance(recipient, str)
                      and isinstance(ts, int | float)):
        raise BadRequest("the Mailgun event is malformed", errors)
    return name, event_id, recipient, float(ts)


def normalize(data: dict[str, Any]) -> ProviderEvent:
    """One Mailgun `event-data` object as a ProviderEvent (pure)."""
    name, event_id, recipient, ts = _required(data)
    event = _failed(data) if name == "failed" else _SIMPLE.get(name, "unknown")
    headers = _object(_object(data.get("message")).get("headers"))
    code = _code(data)
    return bounded(ProviderEvent(
        provider=NAME,
        provider_event=name,
        event=event,
        event_id=f"mailgun.{event_id}",
        timestamp=from_epoch(ts),
        recipient=recipient,
        channel="email",
        message_id=our_message_id(_object(data.get("user-variables")).get("message_id")),
        provider_message_id=provider_message_id(headers.get("message-id")),
        reason=_reason(data) if event not in ("accepted", "delivered", "opened", "clicked", "stored") else None,
        severity=text(data.get("severity"), 32),
        error_code=str(code) if code is not None and event not in ("delivered", "accepted") else None,
        subject=text(headers.get("subject"), 998),
        held=HELD.get(reason) if name == "failed" and isinstance(reason := data.get("reason"), str) else None,
    ), "the Mailgun event is malformed", {"provider_event": "event-data.event",
                                          "error_code": "event-data.delivery-status.code"})


def events(payload: dict[str, Any]) -> list[ProviderEvent]:
    return [normalize(payload["event-data"])]
