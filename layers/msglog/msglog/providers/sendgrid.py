"""SendGrid Event Webhook: a JSON array of events per POST, signed with ECDSA.

Signature: `X-Twilio-Email-Event-Webhook-Signature` is base64 DER ECDSA (P-256, SHA-256) over
the `X-Twilio-Email-Event-Webhook-Timestamp` header + the raw body exactly as received (SendGrid
bodies end in `\\r\\n`; re-serialised JSON would not verify). The timestamp's age is bounded by
WEBHOOK_MAX_AGE_SECONDS.

SendGrid's `sg_event_id` changes between retries of the same event, so an event's id is
derived from its content without it: a retry is recognised as a duplicate.

Mapping: processed → accepted · deferred → deferred · delivered → delivered · open → opened ·
click → clicked · bounce: type blocked → failed, otherwise bounced · dropped → dropped ·
spamreport → complained · unsubscribe, group_unsubscribe → unsubscribed ·
group_resubscribe and anything else → unknown.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from msglog.addresses import EMAIL
from msglog.clock import from_epoch
from msglog.errors import BadRequest, FieldError, Unauthorized, invalid
from msglog.providers import (
    UNVERIFIED,
    Malformed,
    Mapper,
    ProviderEvent,
    WebhookRequest,
    bounded,
    check_age,
    fixed,
    json_body,
    our_message_id,
    provider_message_id,
    text,
    unknown,
)

NAME = "sendgrid"
SIGNATURE = "x-twilio-email-event-webhook-signature"
TIMESTAMP = "x-twilio-email-event-webhook-timestamp"
MAX_EVENTS = 5000
# SendGrid drops a message to an address on its own lists, saying which: ours for suppressing it.
HELD = {"Bounced Address": "bounce", "Unsubscribed Address": "unsubscribe", "Spam Reporting Address": "complaint"}


def read(request: WebhookRequest) -> list[Any]:
    payload = json_body(request, list, "a JSON array of SendGrid events")
    if not payload:
        raise invalid("body", "must be a JSON array of SendGrid events")
    if len(payload) > MAX_EVENTS:
        raise invalid("body", f"holds more than {MAX_EVENTS} events")
    return payload


def verify(payload: list[Any], credentials: list[dict[str, Any]], *, request: WebhookRequest,
           max_age_seconds: int, now: float | None = None) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    timestamp = request.headers.get(TIMESTAMP, "")
    try:
        signature = base64.b64decode(request.headers.get(SIGNATURE, ""), validate=True)
    except (binascii.Error, ValueError):
        raise Unauthorized(UNVERIFIED) from None
    if not timestamp or not signature:
        raise Unauthorized(UNVERIFIED)
    signed = timestamp.encode() + request.body
    for credential in credentials:
        try:
            key = load_der_public_key(base64.b64decode(credential["public_key"]))
            if not isinstance(key, ec.EllipticCurvePublicKey):
                continue
            key.verify(signature, signed, ec.ECDSA(hashes.SHA256()))
            break
        except (InvalidSignature, ValueError):
            continue
    else:
        raise Unauthorized(UNVERIFIED)
    check_age(timestamp, max_age_seconds, now)


def _event_id(data: dict[str, Any]) -> str:
    content = {k: v for k, v in data.items() if k != "sg_event_id"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return f"sendgrid.{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"


def _malformed(data: dict[str, Any], where: str) -> list[FieldError]:
    """The fields every event needs, each named when it is missing or unusable."""
    errors = []
    name, email, ts = data.get("event"), data.get("email"), data.get("timestamp")
    if not isinstance(name, str) or not name:
        errors.append(FieldError(f"{where}.event", "is required"))
    if not isinstance(email, str) or len(email) > 254 or not EMAIL.match(email.strip()):
        errors.append(FieldError(f"{where}.email", "must be an e-mail address"))
    if isinstance(ts, bool) or not isinstance(ts, int | float) or not 0 < ts < 32503680000:
        errors.append(FieldError(f"{where}.timestamp", "must be seconds since the epoch"))
    return errors


def _bounce(data: dict[str, Any]) -> str:
    return "failed" if data.get("type") == "blocked" else "bounced"


# SendGrid's event name -> our event (any other name: unknown).
MAPPERS: dict[str, Mapper] = {
    "processed": fixed("accepted"), "deferred": fixed("deferred"), "delivered": fixed("delivered"),
    "open": fixed("opened"), "click": fixed("clicked"), "bounce": _bounce, "dropped": fixed("dropped"),
    "spamreport": fixed("complained"), "unsubscribe": fixed("unsubscribed"),
    "group_unsubscribe": fixed("unsubscribed"), "group_resubscribe": fixed("unknown"),
}
_FAILURES = frozenset({"bounced", "failed", "dropped", "deferred"})


def _provider_event(name: str, data: dict[str, Any]) -> str:
    """A bounce keeps its type (blocked, bounce): the one word saying whether it was the address."""
    return f"bounce:{data['type']}" if name == "bounce" and isinstance(data.get("type"), str) else name


def _sendgrid_message_id(data: dict[str, Any]) -> str | None:
    """`sg_message_id` without its `.filter…` suffix: what SendGrid's send answer gave."""
    sg_message_id = data.get("sg_message_id")
    return provider_message_id(sg_message_id.split(".filter")[0]) if isinstance(sg_message_id, str) else None


def _failure(data: dict[str, Any], event: str) -> tuple[str | None, str | None, str | None]:
    """Reason, severity and error code: only a failure has them."""
    if event not in _FAILURES:
        return None, None, None
    return (text(data.get("reason")) or text(data.get("response")),
            "temporary" if event == "deferred" else "permanent", text(data.get("status"), 32))


def _held(name: str, data: dict[str, Any]) -> str | None:
    reason = data.get("reason")
    return HELD.get(reason) if name == "dropped" and isinstance(reason, str) else None


def normalize(data: Any, index: int = 0) -> ProviderEvent:
    where = f"[{index}]"
    if not isinstance(data, dict):
        raise BadRequest("a SendGrid event is malformed", [FieldError(where, "must be an object")])
    if errors := _malformed(data, where):
        raise BadRequest("a SendGrid event is malformed", errors)
    name = data["event"]
    event = MAPPERS.get(name, unknown)(data)
    reason, severity, error_code = _failure(data, event)
    return bounded(ProviderEvent(
        provider=NAME,
        provider_event=_provider_event(name, data),
        event=event,
        event_id=_event_id(data),
        timestamp=from_epoch(float(data["timestamp"])),
        recipient=data["email"].strip(),
        channel="email",
        message_id=our_message_id(data.get("message_id")),  # a custom arg set when sending
        provider_message_id=_sendgrid_message_id(data),
        reason=reason,
        severity=severity,
        error_code=error_code,
        subject=None,
        held=_held(name, data),
    ), "a SendGrid event is malformed", {"provider_event": f"{where}.type" if name == "bounce" else f"{where}.event"})


def events(payload: list[Any]) -> list[ProviderEvent | Malformed]:
    """Every well-formed event of the batch; the malformed ones as Malformed (kept, not refused)."""
    out: list[ProviderEvent | Malformed] = []
    for index, data in enumerate(payload):
        try:
            out.append(normalize(data, index))
        except BadRequest as problem:
            out.append(Malformed(index, problem.errors, json.dumps(data, separators=(",", ":"), default=str)))
    return out
