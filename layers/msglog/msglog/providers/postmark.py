"""Postmark webhooks (one JSON object per request, routed on `RecordType`).

Postmark does not sign bodies: the webhook carries HTTP Basic credentials set per tenant. A
failure answers 401, never 403 (a 403 makes Postmark stop retrying for good).

Mapping (docs/providers.md): Delivery → delivered · Bounce: by `Type` — hard types → bounced,
policy and account types → failed, transient types → deferred, spam types → complained,
Unsubscribe → unsubscribed, informational types → unknown; `TypeCode` kept as error code ·
SpamComplaint → complained · Open → opened · Click → clicked · SubscriptionChange →
unsubscribed when sending is suppressed, else unknown.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from msglog.addresses import EMAIL
from msglog.errors import BadRequest, FieldError, Unauthorized
from msglog.providers import (
    UNVERIFIED,
    Mapper,
    ProviderEvent,
    WebhookRequest,
    bounded,
    bounded_id,
    fixed,
    iso_time,
    json_body,
    json_object,
    our_message_id,
    provider_message_id,
    text,
    unknown,
)

NAME = "postmark"
BAD_CREDENTIALS = UNVERIFIED
_BOUNCE_TYPES = {
    **dict.fromkeys(["HardBounce", "BadEmailAddress"], ("bounced", "permanent")),
    **dict.fromkeys(["Blocked", "DMARCPolicy", "ManuallyDeactivated", "SMTPApiError", "TemplateRenderingFailed",
                     "InboundError", "Unconfirmed"], ("failed", "permanent")),
    **dict.fromkeys(["Transient", "SoftBounce", "DnsError"], ("deferred", "temporary")),
    **dict.fromkeys(["SpamComplaint", "SpamNotification"], ("complained", None)),
    "Unsubscribe": ("unsubscribed", None),
}
_TIME_FIELD = {"Delivery": "DeliveredAt", "Bounce": "BouncedAt", "SpamComplaint": "BouncedAt", "Open": "ReceivedAt",
               "Click": "ReceivedAt", "SubscriptionChange": "ChangedAt"}


def read(request: WebhookRequest) -> dict[str, Any]:
    return json_body(request, dict, "a JSON object (one Postmark webhook record)")


def verify(payload: dict[str, Any], credentials: list[dict[str, Any]], *, request: WebhookRequest,
           max_age_seconds: int) -> None:
    """HTTP Basic credentials, compared in constant time against each of the tenant's pairs."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    try:
        given = base64.b64decode(encoded.strip(), validate=True) if scheme.lower() == "basic" else b""
    except (binascii.Error, ValueError):
        given = b""
    if not given or not any(
        hmac.compare_digest(given, f"{c['username']}:{c['password']}".encode()) for c in credentials
    ):
        raise Unauthorized(BAD_CREDENTIALS)


def _time(payload: dict[str, Any], record: str) -> datetime:
    field = _TIME_FIELD.get(record, "ReceivedAt")
    return iso_time(payload.get(field), field, "Postmark record")


def _bounce_type(payload: dict[str, Any]) -> tuple[str, str | None]:
    return _BOUNCE_TYPES.get(str(payload.get("Type")), ("unknown", None))


def _bounce(payload: dict[str, Any]) -> str:
    return _bounce_type(payload)[0]


def _subscription_change(payload: dict[str, Any]) -> str:
    return "unsubscribed" if payload.get("SuppressSending") is True else "unknown"


# Postmark's RecordType -> our event (any other record: unknown).
MAPPERS: dict[str, Mapper] = {
    "Delivery": fixed("delivered"), "Bounce": _bounce,
    "SpamComplaint": fixed("complained"), "Open": fixed("opened"), "Click": fixed("clicked"),
    "SubscriptionChange": _subscription_change,
}
_FAILURES = frozenset({"bounced", "failed", "deferred", "complained"})
_TO_RECIPIENT = frozenset({"Delivery", "Open", "Click", "SubscriptionChange"})  # the others name an `Email`


def _record(payload: dict[str, Any]) -> str:
    """The RecordType. Records without one come from Postmark's older webhooks: bounces (they carry
    BouncedAt) or deliveries."""
    record = payload.get("RecordType")
    if not isinstance(record, str):
        record = "Bounce" if "BouncedAt" in payload else "Delivery"
    return record[:64]


def _recipient(record: str, payload: dict[str, Any]) -> str:
    recipient = payload.get("Recipient") if record in _TO_RECIPIENT else payload.get("Email")
    if not isinstance(recipient, str) or not EMAIL.match(recipient.strip()) or len(recipient) > 254:
        raise BadRequest("the Postmark record is malformed",
                         [FieldError("Recipient" if record != "Bounce" else "Email", "must be an e-mail address")])
    return recipient.strip()


def _event_id(record: str, payload: dict[str, Any]) -> str:
    """Bounces and complaints have Postmark's own id; the other records are identified by content,
    which a retry repeats exactly."""
    if record in ("Bounce", "SpamComplaint") and (postmark_id := bounded_id(payload.get("ID"), 64)):
        return f"postmark.{record}.{postmark_id}"
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]
    return f"postmark.{record}.{digest}"


def _provider_event(record: str, payload: dict[str, Any]) -> str:
    return f"{record}:{payload['Type']}" if record == "Bounce" and isinstance(payload.get("Type"), str) else record


def _failure(payload: dict[str, Any], event: str) -> tuple[str | None, str | None]:
    """Reason and error code (the TypeCode): only a failure has them."""
    if event not in _FAILURES:
        return None, None
    type_code = payload.get("TypeCode")
    return (text(payload.get("Details")) or text(payload.get("Description")),
            str(type_code) if isinstance(type_code, int) else None)


# A SubscriptionChange that suppresses sending says why (SuppressionReason): ours for suppressing it.
_SUPPRESSION_REASONS = {"HardBounce": "bounce", "SpamComplaint": "complaint", "ManualSuppression": "unsubscribe"}


def _held(record: str, payload: dict[str, Any]) -> str | None:
    """Why Postmark holds the address on its own list, if this record says it does: a deactivated
    recipient's bounce (a hard bounce or a complaint, without saying which: recorded as bounce), or a
    SubscriptionChange that suppresses sending."""
    if record == "Bounce" and payload.get("Type") == "InactiveRecipient":
        return "bounce"
    if record == "SubscriptionChange" and payload.get("SuppressSending") is True:
        return _SUPPRESSION_REASONS.get(str(payload.get("SuppressionReason")), "unsubscribe")
    return None


def normalize(payload: dict[str, Any]) -> ProviderEvent:
    """One Postmark record as a ProviderEvent (pure)."""
    record = _record(payload)
    recipient = _recipient(record, payload)
    at = _time(payload, record)
    event = MAPPERS.get(record, unknown)(payload)
    reason, error_code = _failure(payload, event)
    metadata = json_object(payload.get("Metadata"))
    return bounded(ProviderEvent(
        provider=NAME,
        provider_event=_provider_event(record, payload),
        event=event,
        event_id=_event_id(record, payload),
        timestamp=at,
        recipient=recipient,
        channel="email",
        message_id=our_message_id(metadata.get("message_id")),
        provider_message_id=provider_message_id(payload.get("MessageID")),
        reason=reason,
        severity=_bounce_type(payload)[1] if record == "Bounce" else None,
        error_code=error_code,
        subject=text(payload.get("Subject"), 998),
        # Postmark deactivated the address after a hard bounce or a complaint, without saying which here.
        held=_held(record, payload),
    ), "the Postmark record is malformed", {"provider_event": "Type"})


def events(payload: dict[str, Any]) -> list[ProviderEvent]:
    return [normalize(payload)]
