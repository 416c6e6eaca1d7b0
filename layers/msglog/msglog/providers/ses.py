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
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from msglog.addresses import EMAIL
from msglog.errors import BadRequest, FieldError, Unauthorized, invalid
from msglog.providers import (
    UNVERIFIED,
    ProviderEvent,
    RequestKey,
    WebhookRequest,
    bounded,
    bounded_id,
    content_digest,
    iso_time,
    json_body,
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


def _object(value: Any) -> dict[str, Any]:
    """A nested object of the record, or {} when SES sent something else."""
    return value if isinstance(value, dict) else {}


# An SES mapper: (the record's part describing the event, the mail's destination) -> (our event,
# where its time is, its recipients): SES keeps both in a different place for each kind of event.
SesMapper = Callable[[dict[str, Any], list[str]], tuple[str, str, list[str]]]


def _of_the_mail(event: str, time_field: str = "mail.timestamp") -> SesMapper:
    """The mapper of an event about the whole mail: to every address it was sent to."""
    return lambda _part, destination: (event, time_field, destination)


def _bounce(part: dict[str, Any], destination: list[str]) -> tuple[str, str, list[str]]:
    kind = part.get("bounceType")
    event = {"Permanent": "bounced", "Transient": "deferred"}.get(kind, "failed") if isinstance(kind, str) else "failed"
    return event, "bounce.timestamp", _addresses(part.get("bouncedRecipients"))


def _complaint(part: dict[str, Any], destination: list[str]) -> tuple[str, str, list[str]]:
    return "complained", "complaint.timestamp", _addresses(part.get("complainedRecipients"))


def _delivery(part: dict[str, Any], destination: list[str]) -> tuple[str, str, list[str]]:
    return "delivered", "delivery.timestamp", _addresses(part.get("recipients"))


def _delivery_delay(part: dict[str, Any], destination: list[str]) -> tuple[str, str, list[str]]:
    return "deferred", "deliveryDelay.timestamp", _addresses(part.get("delayedRecipients")) or destination


def _subscription(part: dict[str, Any], destination: list[str]) -> tuple[str, str, list[str]]:
    event = "unsubscribed" if _object(part.get("newTopicPreferences")).get("unsubscribeAll") is True else "unknown"
    return event, "subscription.timestamp", destination


# SES's eventType (or notificationType) -> its mapper (any other kind: unknown, to the mail's destination).
MAPPERS: dict[str, SesMapper] = {
    "Send": _of_the_mail("accepted"), "Reject": _of_the_mail("rejected"), "Bounce": _bounce,
    "Complaint": _complaint, "Delivery": _delivery, "Open": _of_the_mail("opened", "open.timestamp"),
    "Click": _of_the_mail("clicked", "click.timestamp"), "Rendering Failure": _of_the_mail("failed"),
    "DeliveryDelay": _delivery_delay, "Subscription": _subscription,
}
_UNKNOWN = _of_the_mail("unknown")
_PART = {"Rendering Failure": "failure", "DeliveryDelay": "deliveryDelay"}  # else the kind, lower-cased


def _classify(kind: str, ses: dict[str, Any]) -> tuple[str, str, list[str], dict[str, Any]]:
    """(event, where its time is, its recipients, the part of the record describing it)."""
    destination = _addresses(_object(ses.get("mail")).get("destination"))
    part = _object(ses.get(_PART.get(kind, kind.lower())))
    event, where, recipients = MAPPERS.get(kind, _UNKNOWN)(part, destination)
    return event, where, recipients, part


def _reason(kind: str, part: dict[str, Any], detail: dict[str, Any]) -> str | None:
    for value in (detail.get("diagnosticCode"), part.get("bounceSubType") if kind == "Bounce" else None,
                  part.get("complaintFeedbackType"), part.get("reason"), part.get("errorMessage"),
                  part.get("delayType")):
        if isinstance(value, str) and value.strip():
            return value.strip()[:1000]
    return None


def _ses_record(envelope: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The SES record the notification carries (its `Message`, JSON), and its kind."""
    try:
        ses = json.loads(envelope["Message"])
    except (ValueError, RecursionError):
        raise invalid("Message", "is not an SES event (JSON)") from None
    if not isinstance(ses, dict):
        raise invalid("Message", "is not an SES event")
    kind = ses.get("eventType") or ses.get("notificationType")
    if not isinstance(kind, str):
        raise invalid("Message.eventType", "is required")
    return ses, kind


def _time(ses: dict[str, Any], where: str) -> datetime:
    section, _, field = where.partition(".")
    return iso_time(_object(ses.get(section)).get(field), f"Message.{where}", "SES event")


def _tagged_message_id(mail: dict[str, Any]) -> str | None:
    """Our message id, from the mail's `message_id` tag (SES gives a tag's values as a list)."""
    tagged = _object(mail.get("tags")).get("message_id")
    return our_message_id(tagged[0] if isinstance(tagged, list) and tagged else tagged)


def _subject(mail: dict[str, Any]) -> str | None:
    subject = _object(mail.get("commonHeaders")).get("subject")
    return subject[:998] if isinstance(subject, str) else None


def _address(recipient: str) -> str:
    if not EMAIL.match(recipient.strip()) or len(recipient) > 254:
        raise BadRequest("the SES event is malformed", [FieldError("Message.recipients", "must be e-mail addresses")])
    return recipient.strip()


# SES did not send: the address is on the account-level suppression list (SES Developer Guide, "Amazon SES
# notification contents": bounce types). The list does not say whether a bounce or a complaint put it there.
ON_ACCOUNT_LIST = "OnAccountSuppressionList"
_FAILURES = frozenset({"bounced", "deferred", "failed", "rejected", "complained"})
_SEVERITY = {"bounced": "permanent", "failed": "permanent", "deferred": "temporary"}


def normalize(envelope: dict[str, Any]) -> list[ProviderEvent]:
    """One SNS notification's SES record as one event per recipient (pure)."""
    ses, kind = _ses_record(envelope)
    event, where, recipients, part = _classify(kind, ses)
    at = _time(ses, where)
    mail = _object(ses.get("mail"))
    details = _details(part.get("bouncedRecipients") or part.get("delayedRecipients"))
    bounce = kind == "Bounce"
    sources = {"provider_event": "Message.bounce.bounceType" if bounce else "Message.eventType",
               "error_code": "Message.bounce.bouncedRecipients.status"}
    out = []
    for index, recipient in enumerate(recipients):
        address = _address(recipient)
        detail = details.get(recipient.lower(), {})
        out.append(bounded(ProviderEvent(
            provider=NAME,
            provider_event=f"{kind}:{part['bounceType']}" if bounce and part.get("bounceType") else kind,
            event=event,
            event_id=f"ses.{envelope['MessageId']}.{index}",
            timestamp=at,
            recipient=address,
            channel="email",
            message_id=_tagged_message_id(mail),
            provider_message_id=provider_message_id(mail.get("messageId")),
            reason=_reason(kind, part, detail) if event in _FAILURES else None,
            severity=_SEVERITY.get(event),
            error_code=detail.get("status") if isinstance(detail.get("status"), str) else None,
            subject=_subject(mail),
            held="bounce" if bounce and part.get("bounceSubType") == ON_ACCOUNT_LIST else None,
        ), "the SES event is malformed", sources))
    return out


def request_key(payload: dict[str, Any]) -> RequestKey | None:
    """SNS's MessageId and Timestamp, both signed, the same on each of SNS's retries: the request's
    ingestion-log row is keyed by them (None if the time is not one: the row is then unkeyed)."""
    try:
        at = iso_time(payload["Timestamp"], "Timestamp", "SNS message")
    except BadRequest:
        return None
    signed = {name: payload.get(name) for name in SIGNED[payload["Type"]]}
    return RequestKey(payload["MessageId"], at, content_digest(signed))


def events(payload: dict[str, Any]) -> list[ProviderEvent]:
    return normalize(payload) if payload["Type"] == "Notification" else []


def reset() -> None:
    """Tests: a fresh container has fetched no certificate."""
    _certificates.clear()
