"""Postmark's Messages API: one outbound message's details, with its `MessageEvents`.

Source: Postmark API reference, "Messages" — GET /messages/outbound/{messageid}/details with the
`X-Postmark-Server-Token` header; the answer has `MessageID`, `Recipients`, `Subject`, `Metadata` and
`MessageEvents`: [{"Recipient", "Type" (Delivered, Transient, Bounced, Opened, LinkClicked,
SubscriptionChanged), "ReceivedAt", "Details": {…, "BounceID" for a bounce}}]; the search
GET /messages/outbound?count=…&offset=…&fromdate=…&todate= lists a window, 500 a page at most
(postmarkapp.com/blog/announcing-the-postmark-messages-api; postmark.js's MessageEventInfo types).
Each message event is rewritten as the webhook record it stands for and read by
msglog.providers.postmark.normalize: a bounce keeps Postmark's id (`postmark.Bounce.<BounceID>`, as its
webhook), the others are identified by their content.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from msglog.errors import BadRequest
from msglog.provider_apis import Budget, ProviderFailed, base_url, call
from msglog.providers import ProviderEvent
from msglog.providers import postmark as webhook

NAME = "postmark"
DEFAULT_URL = "https://api.postmarkapp.com"
PACE_SECONDS = 0.5  # Postmark publishes no number; it answers 429 when a server is asked too fast
PAGE = 500
# The search filters by send time: a message sent before the window may have its delivery, bounce or open in it.
# Messages sent up to this long before the window are listed too (the recovery keeps only the window's events).
LOOK_BACK = timedelta(days=1)
NOT_FOUND = 422  # Postmark's answer for an unknown message id (with ErrorCode 701)
# MessageEvents' Type -> (the webhook's RecordType, its time field)
RECORD = {"Delivered": ("Delivery", "DeliveredAt"), "Bounced": ("Bounce", "BouncedAt"),
          "Opened": ("Open", "ReceivedAt"), "LinkClicked": ("Click", "ReceivedAt"),
          "SubscriptionChanged": ("SubscriptionChange", "ChangedAt")}


def _headers(credentials: dict[str, Any]) -> dict[str, str]:
    return {"x-postmark-server-token": credentials["server_token"]}


def as_webhook(detail: dict[str, Any], event: dict[str, Any]) -> dict[str, Any] | None:
    """One message event as the webhook record it stands for; None for one no webhook sends (Transient:
    Postmark retries, and only its outcome is a record)."""
    record = RECORD.get(str(event.get("Type")))
    if record is None:
        return None
    kind, time_field = record
    given = event.get("Details")
    details: dict[str, Any] = given if isinstance(given, dict) else {}
    data: dict[str, Any] = {"RecordType": kind, "MessageID": detail.get("MessageID"),
                            time_field: event.get("ReceivedAt"),
                            "Recipient" if kind != "Bounce" else "Email": event.get("Recipient"),
                            "Subject": detail.get("Subject"), "Metadata": detail.get("Metadata") or {}}
    if kind == "Bounce":
        data |= {"ID": details.get("BounceID"), "Type": details.get("Type") or "HardBounce",
                 "Details": details.get("Summary")}
    if kind == "SubscriptionChange":
        data["SuppressSending"] = details.get("SuppressSending") in (True, "True", "true")
    return data


def _events(detail: dict[str, Any]) -> list[ProviderEvent]:
    events = []
    for event in detail.get("MessageEvents") or []:
        record = as_webhook(detail, event) if isinstance(event, dict) else None
        if record is None:
            continue
        try:
            events.append(webhook.normalize(record))
        except BadRequest:
            continue  # an event a webhook would have been refused for: not stored either
    return events


def _details(credentials: dict[str, Any], message_id: str, budget: Budget) -> list[ProviderEvent]:
    try:
        detail = call(NAME, "GET", f"{base_url(NAME, DEFAULT_URL)}/messages/outbound/"
                                   f"{quote(message_id, safe='')}/details", budget, headers=_headers(credentials))
    except ProviderFailed as failure:
        if failure.status == NOT_FOUND:
            return []  # a message Postmark does not know (ErrorCode 701)
        raise
    return _events(detail) if isinstance(detail, dict) else []


def message_events(credentials: dict[str, Any], provider_message_id: str, budget: Budget,
                   known: dict[str, tuple[int, str | None]] | None = None) -> list[ProviderEvent]:
    return _details(credentials, provider_message_id, budget)


def window(credentials: dict[str, Any], start: datetime, end: datetime, budget: Budget,
           position: str | None) -> tuple[list[ProviderEvent], str | None]:
    """`position`: "<offset>" of the search, then "<offset>|<MessageIDs to read, comma-separated>"."""
    offset, _, todo = (position or "0").partition("|")
    if todo:
        first, _, rest = todo.partition(",")
        return _details(credentials, first, budget), f"{offset}|{rest}" if rest else (offset if offset != "-" else None)
    if offset == "-":
        return [], None
    stamp = "%Y-%m-%dT%H:%M:%S"
    answer = call(NAME, "GET", f"{base_url(NAME, DEFAULT_URL)}/messages/outbound", budget,
                  headers=_headers(credentials), params={"count": PAGE, "offset": int(offset),
                                                         "fromdate": (start - LOOK_BACK).strftime(stamp),
                                                         "todate": end.strftime(stamp)})
    messages = answer.get("Messages") if isinstance(answer, dict) else None
    if not isinstance(messages, list):
        raise ProviderFailed(NAME, "the message search answer has no Messages")
    ids = [m["MessageID"] for m in messages if isinstance(m, dict) and isinstance(m.get("MessageID"), str)]
    following = str(int(offset) + PAGE) if len(messages) == PAGE else "-"
    return [], (f"{following}|{','.join(ids)}" if ids else (following if following != "-" else None))


# Postmark deactivates an address after a hard bounce or a complaint. Source: Postmark API reference,
# "Bounces" — GET /bounces?count=…&offset=…&emailFilter=…&inactive=true lists them ({"Bounces": [{"ID",
# "Email", "Inactive", "CanActivate"}]}), PUT /bounces/{bounceid}/activate reactivates the address (a
# spam complaint's cannot be: CanActivate false).


def _inactive(credentials: dict[str, Any], address: str, budget: Budget) -> list[dict[str, Any]]:
    answer = call(NAME, "GET", f"{base_url(NAME, DEFAULT_URL)}/bounces", budget, headers=_headers(credentials),
                  params={"count": 50, "offset": 0, "emailFilter": address, "inactive": "true"})
    bounces = answer.get("Bounces") if isinstance(answer, dict) else None
    return [b for b in bounces or [] if isinstance(b, dict) and b.get("Inactive")
            and str(b.get("Email", "")).lower() == address.lower()]


def held(credentials: dict[str, Any], address: str, budget: Budget) -> list[str]:
    return ["bounce"] if _inactive(credentials, address, budget) else []


def release(credentials: dict[str, Any], address: str, budget: Budget) -> list[str]:
    """Reactivate the address; a bounce Postmark will not reactivate (CanActivate false) leaves it held."""
    inactive = _inactive(credentials, address, budget)
    for bounce in inactive:
        if not bounce.get("CanActivate"):
            raise ProviderFailed(NAME, "Postmark will not reactivate this address (CanActivate is false)")
        call(NAME, "PUT", f"{base_url(NAME, DEFAULT_URL)}/bounces/{quote(str(bounce.get('ID')), safe='')}/activate",
             budget, headers=_headers(credentials))
    return ["bounce"] if inactive else []
