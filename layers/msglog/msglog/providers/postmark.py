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
    ProviderEvent,
    WebhookRequest,
    bounded,
    bounded_id,
    iso_time,
    json_body,
    json_object,
    our_message_id,
    provider_message_id,
    text,
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


def _classify(record: str, payload: dict[str, Any]) -> tuple[str, str | None]:
    if record == "Delivery":
        return "delivered", None
    if record == "Bounce":
        return _BOUNCE_TYPES.get(str(payload.get("Type")), ("unknown", None))
    if record == "SpamComplaint":
        return "complained", None
    if record == "Open":
        return "opened", None
    if record == "Click":
        return "clicked", None
    if record == "SubscriptionChange":
        return ("unsubscribed" if payload.get("SuppressSending") is True else "unknown"), None
    return "unknown", None


def normalize(payload: dict[str, Any]) -> ProviderEvent:
    """One Postmark record as a ProviderEvent (pure). Records without a RecordType come from
    Postmark's older webhooks: bounces (they carry BouncedAt) or deliveries."""
    record = payload.get("RecordType")
    if not isinstance(record, str):
        record = "Bounce" if "BouncedAt" in payload else "Delivery"
    record = record[:64]
    recipient = payload.get("Recipient") if record in ("Delivery", "Open", "Click", "SubscriptionChange") \
        else payload.get("Email")
    if not isinstance(recipient, str) or not EMAIL.match(recipient.strip()) or len(recipient) > 254:
        raise BadRequest("the Postmark record is malformed",
                         [FieldError("Recipient" if record != "Bounce" else "Email", "must be an e-mail address")])
    at = _time(payload, record)
    event, severity = _classify(record, payload)
    metadata = json_object(payload.get("Metadata"))
    # Bounces and complaints have Postmark's own id; the other records are identified by content,
    # which a retry repeats exactly.
    if record in ("Bounce", "SpamComplaint") and (postmark_id := bounded_id(payload.get("ID"), 64)):
        event_id = f"postmark.{record}.{postmark_id}"
    else:
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]
        event_id = f"postmark.{record}.{digest}"
    type_code = payload.get("TypeCode")
    failed = event in ("bounced", "failed", "deferred", "complained")
    return bounded(ProviderEvent(
        provider=NAME,
        provider_event=f"{record}:{payload['Type']}" if record == "Bounce" and isinstance(payload.get("Type"), str)
        else record,
        event=event,
        event_id=event_id,
        timestamp=at,
        recipient=recipient.strip(),
        channel="email",
        message_id=our_message_id(metadata.get("message_id")),
        provider_message_id=provider_message_id(payload.get("MessageID")),
        reason=(text(payload.get("Details")) or text(payload.get("Description"))) if failed else None,
        severity=severity,
        error_code=str(type_code) if isinstance(type_code, int) and failed else None,
        subject=text(payload.get("Subject"), 998),
        # Postmark deactivated the address after a hard bounce or a complaint, without saying which here.
        held="bounce" if record == "Bounce" and payload.get("Type") == "InactiveRecipient" else None,
    ), "the Postmark record is malformed", {"provider_event": "Type"})


def events(payload: dict[str, Any]) -> list[ProviderEvent]:
    return [normalize(payload)]
