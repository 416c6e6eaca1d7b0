"""Amazon SES events delivered by SNS (HTTP/S subscription; body: the SNS JSON envelope).

Verification, in this order (the answer is the same 401 for every failure):
  1. the envelope's `TopicArn` is one of the tenant's (anyone can obtain validly signed SNS
     messages, from their own topics);
  2. `SigningCertURL` is `https://sns.<region>.amazonaws.com[.cn]/….pem`;
  3. the certificate: from SNS_SIGNING_CERTS_DIR (named as the URL's last path segment) when
     there, else downloaded (only from such a URL) and cached; a downloaded certificate must be
     within its validity period. A certificate provisioned in the directory is pinned by the
     operator and its dates are not checked (AWS's published test messages are signed with a
     certificate that expired on 2022-08-17; SNS keeps using a URL until it rotates);
  4. RSA PKCS#1 v1.5 over the string to sign: SignatureVersion 1 = SHA1, 2 = SHA256.
Keys are accepted as SNS sends them over HTTP (`SigningCertURL`) and as Lambda receives them
(`SigningCertUrl`, `UnsubscribeUrl`).

A SubscriptionConfirmation is confirmed (ConfirmSubscription through the SNS API of the topic's
region, never by fetching the URL in the message) only after all of the above.

Mapping of SES events (event publishing `eventType`, or identity notifications
`notificationType`): Send → accepted · Reject → rejected · Bounce: Permanent → bounced,
Transient → deferred, Undetermined → failed · Complaint → complained · Delivery → delivered ·
Open → opened · Click → clicked · Rendering Failure → failed · DeliveryDelay → deferred ·
Subscription → unsubscribed (unsubscribe-all) else unknown · anything else → unknown.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from msglog.addresses import EMAIL
from msglog.errors import BadRequest, FieldError, Unauthorized, invalid
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
)

NAME = "ses"
CERT_HOST = re.compile(r"^sns\.[a-zA-Z0-9\-]{3,}\.amazonaws\.com(\.cn)?$")
SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}
_LAMBDA_KEYS = {"SigningCertUrl": "SigningCertURL", "UnsubscribeUrl": "UnsubscribeURL", "SubscribeUrl": "SubscribeURL"}
_certificates: dict[str, Any] = {}  # URL → public key, for the container's life


def read(request: WebhookRequest) -> dict[str, Any]:
    payload = json_body(request, dict, "an SNS message (a JSON object)")
    payload = {_LAMBDA_KEYS.get(key, key): value for key, value in payload.items()}
    for key in ("Type", "MessageId", "TopicArn", "Message", "Timestamp", "Signature", "SignatureVersion",
                "SigningCertURL"):
        if not isinstance(payload.get(key), str):
            raise invalid(key, "is required (a string)")
    if payload["Type"] not in SIGNED:
        raise invalid("Type", f"must be one of {', '.join(SIGNED)}")
    if not bounded_id(payload["MessageId"]):
        raise invalid("MessageId", "must be an SNS message id")
    return payload


def string_to_sign(message: dict[str, Any]) -> str:
    return "".join(f"{key}\n{message[key]}\n" for key in SIGNED[message["Type"]] if message.get(key) is not None)


def _certificate_url_ok(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(CERT_HOST.match(parts.hostname or "")) and parts.port is None \
        and parts.path.endswith(".pem")


def _public_key(url: str) -> Any:
    from cryptography import x509

    if url in _certificates:
        return _certificates[url]
    offline = os.environ.get("SNS_SIGNING_CERTS_DIR")
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    path = Path(offline) / name if offline else None
    if path and path.is_file():
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    else:
        import urllib.request

        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - URL checked: https, SNS host
            certificate = x509.load_pem_x509_certificate(response.read(64 * 1024))
        now = datetime.now(UTC)
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise Unauthorized(UNVERIFIED)
    _certificates[url] = certificate.public_key()
    return _certificates[url]


def verify(payload: dict[str, Any], credentials: list[dict[str, Any]], *, request: WebhookRequest,
           max_age_seconds: int) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    topics = {arn for credential in credentials for arn in credential.get("topic_arns") or ()}
    if payload["TopicArn"] not in topics or not _certificate_url_ok(payload["SigningCertURL"]):
        raise Unauthorized(UNVERIFIED)
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(payload["SignatureVersion"])  # noqa: S303 - SNS v1
    if algorithm is None:
        raise Unauthorized(UNVERIFIED)
    try:
        signature = base64.b64decode(payload["Signature"], validate=True)
        key = _public_key(payload["SigningCertURL"])
        key.verify(signature, string_to_sign(payload).encode(), padding.PKCS1v15(), algorithm)
    except (InvalidSignature, binascii.Error, ValueError, OSError):
        raise Unauthorized(UNVERIFIED) from None


def confirm(payload: dict[str, Any]) -> str | None:
    """Confirm a verified subscription of one of the tenant's topics; returns the outcome code."""
    if payload["Type"] == "SubscriptionConfirmation":
        from botocore.exceptions import ClientError

        from msglog.aws import client

        region = payload["TopicArn"].split(":")[3]
        try:
            client("sns", region).confirm_subscription(TopicArn=payload["TopicArn"], Token=str(payload.get("Token")))
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("NotFound", "InvalidParameter", "AuthorizationError", "SubscriptionLimitExceeded"):
                raise BadRequest(f"SNS refused to confirm the subscription ({code})",
                                 [FieldError("Token", "was not accepted by SNS")]) from None
            raise
        return "SUBSCRIPTION_CONFIRMED"
    if payload["Type"] == "UnsubscribeConfirmation":
        return "UNSUBSCRIBE_CONFIRMED"
    return None


# ------------------------------------------------------------------ SES events
def _addresses(items: Any) -> list[str]:
    out = []
    for item in items if isinstance(items, list) else []:
        address = item.get("emailAddress") if isinstance(item, dict) else item
        if isinstance(address, str):
            out.append(address)
    return out


def _details(items: Any) -> dict[str, dict[str, Any]]:
    """Per-recipient details (status, diagnostic) by lower-cased address."""
    if not isinstance(items, list):
        return {}
    return {
        i["emailAddress"].lower(): i for i in items if isinstance(i, dict) and isinstance(i.get("emailAddress"), str)
    }


def _classify(kind: str, ses: dict[str, Any]) -> tuple[str, str, list[str], dict[str, Any]]:
    """(event, where its time is, its recipients, the part of the record describing it)."""
    mail = json_object(ses.get("mail"))
    destination = _addresses(mail.get("destination"))
    section = {"Rendering Failure": "failure", "DeliveryDelay": "deliveryDelay"}.get(kind, kind.lower())
    part = json_object(ses.get(section))
    if kind == "Bounce":
        event = {"Permanent": "bounced", "Transient": "deferred"}.get(str(part.get("bounceType")), "failed")
        return event, "bounce.timestamp", _addresses(part.get("bouncedRecipients")), part
    if kind == "Complaint":
        return "complained", "complaint.timestamp", _addresses(part.get("complainedRecipients")), part
    if kind == "Delivery":
        return "delivered", "delivery.timestamp", _addresses(part.get("recipients")), part
    if kind == "DeliveryDelay":
        return "deferred", "deliveryDelay.timestamp", _addresses(part.get("delayedRecipients")) or destination, part
    simple = {"Send": "accepted", "Reject": "rejected", "Open": "opened", "Click": "clicked",
              "Rendering Failure": "failed"}
    if kind in simple:
        where = f"{kind.lower()}.timestamp" if kind in ("Open", "Click") else "mail.timestamp"
        return simple[kind], where, destination, part
    if kind == "Subscription":
        preferences = json_object(part.get("newTopicPreferences"))
        event = "unsubscribed" if preferences.get("unsubscribeAll") is True else "unknown"
        return event, "subscription.timestamp", destination, part
    return "unknown", "mail.timestamp", destination, part


def _reason(kind: str, part: dict[str, Any], detail: dict[str, Any]) -> str | None:
    for value in (detail.get("diagnosticCode"), part.get("bounceSubType") if kind == "Bounce" else None,
                  part.get("complaintFeedbackType"), part.get("reason"), part.get("errorMessage"),
                  part.get("delayType")):
        if isinstance(value, str) and value.strip():
            return value.strip()[:1000]
    return None


def normalize(envelope: dict[str, Any]) -> list[ProviderEvent]:
    """One SNS notification's SES record as one event per recipient (pure)."""
    try:
        ses = json.loads(envelope["Message"])
    except (ValueError, RecursionError):
        raise invalid("Message", "is not an SES event (JSON)") from None
    if not isinstance(ses, dict):
        raise invalid("Message", "is not an SES event")
    kind = ses.get("eventType") or ses.get("notificationType")
    if not isinstance(kind, str):
        raise invalid("Message.eventType", "is required")
    mail = json_object(ses.get("mail"))
    event, where, recipients, part = _classify(kind, ses)
    section, _, field = where.partition(".")
    at = iso_time(ses[section].get(field) if isinstance(ses.get(section), dict) else None, f"Message.{where}",
                  "SES event")
    tags = json_object(mail.get("tags"))
    tagged = tags.get("message_id")
    headers = json_object(mail.get("commonHeaders"))
    details = _details(part.get("bouncedRecipients") or part.get("delayedRecipients"))
    out = []
    for index, recipient in enumerate(recipients):
        if not EMAIL.match(recipient.strip()) or len(recipient) > 254:
            raise BadRequest("the SES event is malformed", [FieldError("Message.recipients", "must be e-mail addresses")])
        detail = details.get(recipient.lower(), {})
        failed = event in ("bounced", "deferred", "failed", "rejected", "complained")
        out.append(bounded(ProviderEvent(
            provider=NAME,
            provider_event=f"{kind}:{part['bounceType']}" if kind == "Bounce" and part.get("bounceType") else kind,
            event=event,
            event_id=f"ses.{envelope['MessageId']}.{index}",
            timestamp=at,
            recipient=recipient.strip(),
            channel="email",
            message_id=our_message_id(tagged[0] if isinstance(tagged, list) and tagged else tagged),
            provider_message_id=provider_message_id(mail.get("messageId")),
            reason=_reason(kind, part, detail) if failed else None,
            severity={"bounced": "permanent", "failed": "permanent", "deferred": "temporary"}.get(event),
            error_code=detail.get("status") if isinstance(detail.get("status"), str) else None,
            subject=subject[:998] if isinstance(subject := headers.get("subject"), str) else None,
        ), "the SES event is malformed", {
            "provider_event": "Message.bounce.bounceType" if kind == "Bounce" else "Message.eventType",
            "error_code": "Message.bounce.bouncedRecipients.status"}))
    return out


def events(payload: dict[str, Any]) -> list[ProviderEvent]:
    return normalize(payload) if payload["Type"] == "Notification" else []
