"""Twilio SMS status callbacks (POST, application/x-www-form-urlencoded).

Signature (`X-Twilio-Signature`): base64 HMAC-SHA1 with the account's auth token over the URL
Twilio called + every parameter (keys sorted; each key's distinct values sorted) as key+value.
Like twilio-python's validator, the URL is tried as received, without its port, and with the
default port. JSON bodies are signed as the URL alone, with the body's SHA-256 in `bodySHA256`.

The URL is the public one (`PUBLIC_BASE_URL`, else rebuilt from the request): set each message's
StatusCallback to `…/v1/webhooks/twilio/<tenant>?message_id=<our id>` — the query is signed too,
so the message id in it can be trusted.

Mapping: queued/accepted/scheduled → themselves (rank 1) · sending, sent → sent · delivered ·
undelivered · failed · read · canceled. `To` may be absent (Twilio's documented example has none):
the event's recipient is then the one its MessageSid was recorded for (msglog.ingest.identify).
Twilio gives no event time (RawDlrDoneDate, minute precision, only on final states): without it
the time is when we first saw the status.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from msglog.addresses import E164
from msglog.errors import BadRequest, FieldError, Unauthorized, invalid
from msglog.providers import (
    UNVERIFIED,
    Mapper,
    ProviderEvent,
    WebhookRequest,
    bounded,
    bounded_id,
    fixed,
    our_message_id,
    provider_message_id,
    unknown,
)

NAME = "twilio"
# Twilio's error dictionary titles for the codes status callbacks carry most often.
_ERRORS = {
    "30001": "Queue overflow", "30002": "Account suspended", "30003": "Unreachable destination handset",
    "30004": "Message blocked", "30005": "Unknown destination handset", "30006": "Landline or unreachable carrier",
    "30007": "Message filtered", "30008": "Unknown error", "30009": "Missing inbound segment",
    "30010": "Message price exceeds max price", "21610": "Attempt to send to unsubscribed recipient",
    "21211": "Invalid 'To' Phone Number", "21614": "'To' number is not a valid mobile number",
}


def read(request: WebhookRequest) -> dict[str, Any]:
    """{"params": [(key, value), …], "query": {…}, "json": bool}."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    query = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
    if kind == "application/json":
        return {"params": [], "query": query, "json": True}
    if kind not in ("application/x-www-form-urlencoded", ""):
        raise invalid("content-type", "must be application/x-www-form-urlencoded (a Twilio status callback)")
    try:
        params = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(request.body))
    except (UnicodeDecodeError, ValueError):
        raise invalid("body", "is not a form-encoded Twilio callback") from None
    return {"params": params, "query": query, "json": False}


def signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    values: dict[str, set[str]] = {}
    for key, value in params:
        values.setdefault(key, set()).add(value)
    message = url + "".join(key + value for key in sorted(values) for value in sorted(values[key]))
    return base64.b64encode(hmac.new(auth_token.encode(), message.encode(), hashlib.sha1).digest()).decode()


def _url_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    without = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    with_default = urlunsplit((parts.scheme, f"{host}:{default}", parts.path, parts.query, parts.fragment))
    return list(dict.fromkeys([url, without, with_default]))


def verify(payload: dict[str, Any], credentials: list[dict[str, Any]], *, request: WebhookRequest,
           max_age_seconds: int) -> None:
    given = request.headers.get("x-twilio-signature", "").encode()
    if payload["json"]:
        expected_body = payload["query"].get("bodySHA256", "")
        if not hmac.compare_digest(hashlib.sha256(request.body).hexdigest().encode(), expected_body.encode()):
            raise Unauthorized(UNVERIFIED)
    if not given or not any(
        hmac.compare_digest(signature(c["auth_token"], url, payload["params"]).encode(), given)
        for c in credentials for url in _url_variants(request.url)
    ):
        raise Unauthorized(UNVERIFIED)


def _done_date(value: str | None) -> datetime | None:
    """RawDlrDoneDate: YYMMDDhhmm, the carrier's completion time (UTC)."""
    try:
        return datetime.strptime(value, "%y%m%d%H%M").replace(tzinfo=UTC) if value else None
    except ValueError:
        return None


def _malformed(sid: str | None, status: str | None, to: str) -> list[FieldError]:
    """The fields every callback needs, each named when it is missing or unusable."""
    errors = []
    if not sid or provider_message_id(sid) != sid:
        errors.append(FieldError("MessageSid", "is required"))
    if not status or not status.replace("_", "").isalpha() or len(status) > 32:
        errors.append(FieldError("MessageStatus", "is required (a Twilio status)"))
    if to and not E164.match(to):  # absent in Twilio's own example: the SID finds the recipient (msglog.ingest)
        errors.append(FieldError("To", "must be an E.164 phone number"))
    return errors


# Twilio's MessageStatus (lower-cased) -> our event (any other status: unknown).
MAPPERS: dict[str, Mapper] = {
    "queued": fixed("queued"), "accepted": fixed("accepted"), "scheduled": fixed("scheduled"),
    "sending": fixed("sent"), "sent": fixed("sent"), "delivered": fixed("delivered"),
    "undelivered": fixed("undelivered"), "failed": fixed("failed"), "read": fixed("read"),
    "canceled": fixed("canceled"),
}


def _reason(code: str | None) -> str | None:
    """The title of Twilio's error code (any callback may carry one)."""
    return _ERRORS.get(code, f"Twilio error {code}") if code else None


def normalize(params: dict[str, str], query: dict[str, str]) -> ProviderEvent:
    sid, status, to = params.get("MessageSid") or params.get("SmsSid"), params.get("MessageStatus") or \
        params.get("SmsStatus"), params.get("To", "").removeprefix("whatsapp:")
    errors = _malformed(sid, status, to)
    if errors or not sid or not status:  # (_malformed names a missing one)
        raise BadRequest("the Twilio status callback is malformed", errors)
    event = MAPPERS.get(status.lower(), unknown)(params)
    code = bounded_id(params.get("ErrorCode"), 16)
    failed = event in ("undelivered", "failed")
    return bounded(ProviderEvent(
        provider=NAME,
        provider_event=status,
        event=event,
        event_id=f"twilio.{sid}.{status.lower()}",
        timestamp=_done_date(params.get("RawDlrDoneDate")),
        recipient=to,
        channel="sms",
        message_id=our_message_id(query.get("message_id")),
        provider_message_id=sid,
        reason=_reason(code),
        severity="permanent" if failed else None,
        error_code=code,
        held="unsubscribe" if failed and code == "21610" else None,  # the recipient replied STOP
    ), "the Twilio status callback is malformed", {"provider_event": "MessageStatus", "event_id": "MessageSid"})


def events(payload: dict[str, Any]) -> list[ProviderEvent]:
    if payload["json"]:
        raise invalid("body", "status callbacks are form-encoded; a JSON body carries no status")
    return [normalize(dict(payload["params"]), payload["query"])]
