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

A `Bounced` message event does not say which bounce it was (hard, soft, transient, …): its type is read
from the bounce itself, GET /bounces/{bounceid} (postmarkapp.com/developer/api/bounce-api, "Get a single
bounce": `ID`, `Type`, `TypeCode`, `Description`, `Details`, `Email`, `BouncedAt`, `Inactive`,
`CanActivate`), one call a bounce, counted in the same budget. A bounce whose type cannot be read (no
BounceID, or Postmark no longer has it: 422/404) is left out, never guessed: it would be stored under the
webhook's own id, and the real webhook would then be a duplicate that can never correct it. A bounce that
could not be read because the budget ran out or Postmark rate-limits or fails stops the refresh or the
recovery there, as any call's failure does (refresh again; a recovery resumes at that message).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from msglog.errors import BadRequest
from msglog.provider_apis import Budget, CannotRelease, ProviderFailed, base_url, call
from msglog.providers import ProviderEvent
from msglog.providers import postmark as webhook

NAME = "postmark"
DEFAULT_URL = "https://api.postmarkapp.com"
PACE_SECONDS = 0.5  # Postmark publishes no number; it answers 429 when a server is asked too fast
PAGE = 500
# The search filters by send time: a message sent before the window may have its delivery, bounce or open in it.
# Messages sent up to this long before the window are listed too (the recovery keeps only the window's events).
LOOK_BACK = timedelta(days=1)
NOT_FOUND = 422  # Postmark's answer for an unknown message id (with ErrorCode 701) or bounce id (407)
# MessageEvents' Type -> (the webhook's RecordType, its time field)
RECORD = {"Delivered": ("Delivery", "DeliveredAt"), "Bounced": ("Bounce", "BouncedAt"),
          "Opened": ("Open", "ReceivedAt"), "LinkClicked": ("Click", "ReceivedAt"),
          "SubscriptionChanged": ("SubscriptionChange", "ChangedAt")}


def _headers(credentials: dict[str, Any]) -> dict[str, str]:
    return {"x-postmark-server-token": credentials["server_token"]}


def as_webhook(detail: dict[str, Any], event: dict[str, Any],
               bounce: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """One message event as the webhook record it stands for; None for one no webhook sends (Transient:
    Postmark retries, and only its outcome is a record), and for a bounce without its `bounce` record
    (GET /bounces/{id}: the only place its type is said)."""
    record = RECORD.get(str(event.get("Type")))
    if record is None or (record[0] == "Bounce" and not isinstance((bounce or {}).get("Type"), str)):
        return None
    kind, time_field = record
    given = event.get("Details")
    details: dict[str, Any] = given if isinstance(given, dict) else {}
    data: dict[str, Any] = {"RecordType": kind, "MessageID": detail.get("MessageID"),
                            time_field: event.get("ReceivedAt"),
                            "Recipient" if kind != "Bounce" else "Email": event.get("Recipient"),
                            "Subject": detail.get("Subject"), "Metadata": detail.get("Metadata") or {}}
    if kind == "Bounce" and bounce is not None:
        data |= {"ID": details.get("BounceID"), "Type": bounce["Type"], "TypeCode": bounce.get("TypeCode"),
                 "Description": bounce.get("Description"), "Details": bounce.get("Details") or details.get("Summary")}
    if kind == "SubscriptionChange":
        data["SuppressSending"] = details.get("SuppressSending") in (True, "True", "true")
    return data


def _bounce(credentials: dict[str, Any], event: dict[str, Any], budget: Budget) -> dict[str, Any] | None:
    """The bounce a `Bounced` message event names (None: it names none, or Postmark no longer has it)."""
    given = event.get("Details")
    bounce_id = given.get("BounceID") if isinstance(given, dict) else None
    if event.get("Type") != "Bounced" or not isinstance(bounce_id, (str, int)) or not str(bounce_id).isdigit():
        return None
    try:
        bounce = call(NAME, "GET", f"{base_url(NAME, DEFAULT_URL)}/bounces/{bounce_id}", budget,
                      headers=_headers(credentials), missing_ok=True)
    except ProviderFailed as failure:
        if failure.status == NOT_FOUND:
            return None  # ErrorCode 407, bounce not found (past the retention period)
        raise
    return bounce if isinstance(bounce, dict) else None


def _events(credentials: dict[str, Any], detail: dict[str, Any], budget: Budget) -> list[ProviderEvent]:
    events = []
    for event in detail.get("MessageEvents") or []:
        record = as_webhook(detail, event, _bounce(credentials, event, budget)) if isinstance(event, dict) else None
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
    return _events(credentials, detail, budget) if isinstance(detail, dict) else []


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


# Postmark's suppression list is per message stream. Source: Postmark API reference, "Suppressions API"
# (postmarkapp.com/developer/api/suppressions-api) — GET /message-streams/{stream_id}/suppressions/dump
# ?EmailAddress=… answers {"Suppressions": [{"EmailAddress", "SuppressionReason" (HardBounce, SpamComplaint,
# ManualSuppression: the recipient unsubscribed, or the customer suppressed it), "Origin" (Recipient,
# Customer, Admin), "CreatedAt"}]}; POST /message-streams/{stream_id}/suppressions/delete with
# {"Suppressions": [{"EmailAddress"}]} answers each address's {"EmailAddress", "Status" (Deleted, Failed),
# "Message"}. Deleting a HardBounce suppression reactivates its bounce (the Bounces API's activate); a
# SpamComplaint's cannot be deleted (Postmark keeps complainers suppressed; only its support lifts it), so
# it is not asked, and the answer says so. The stream: the tenant's `message_stream` (PUT
# /v1/providers/postmark, api), else Postmark's default transactional stream, "outbound".
DEFAULT_STREAM = "outbound"
REASONS = {"HardBounce": "bounce", "SpamComplaint": "complaint", "ManualSuppression": "unsubscribe"}
SPAM_COMPLAINT = ("Postmark does not allow a SpamComplaint suppression to be deleted through its API: the address "
                  "stays suppressed at Postmark (its support can lift it)")


def _stream_url(credentials: dict[str, Any]) -> str:
    stream = credentials.get("message_stream") or DEFAULT_STREAM
    return f"{base_url(NAME, DEFAULT_URL)}/message-streams/{quote(stream, safe='')}/suppressions"


def _suppressions(credentials: dict[str, Any], address: str, budget: Budget) -> list[str]:
    """Postmark's reasons for suppressing `address` in the stream (SuppressionReason values)."""
    answer = call(NAME, "GET", f"{_stream_url(credentials)}/dump", budget, headers=_headers(credentials),
                  params={"EmailAddress": address})
    found = answer.get("Suppressions") if isinstance(answer, dict) else None
    if not isinstance(found, list):
        raise ProviderFailed(NAME, "the suppression dump has no Suppressions")
    return [str(s.get("SuppressionReason")) for s in found if isinstance(s, dict)
            and str(s.get("EmailAddress", "")).lower() == address.lower()]


def _ours(reasons: list[str]) -> list[str]:
    return list(dict.fromkeys(REASONS.get(reason, "bounce") for reason in reasons))


def held(credentials: dict[str, Any], address: str, budget: Budget) -> list[str]:
    return _ours(_suppressions(credentials, address, budget))


def release(credentials: dict[str, Any], address: str, budget: Budget) -> list[str]:
    """Delete the address's suppression from the stream; a spam complaint's Postmark will not delete
    (CannotRelease, nothing asked), and a deletion Postmark answers Failed is a failure with its message."""
    reasons = _suppressions(credentials, address, budget)
    if not reasons:
        return []
    if "SpamComplaint" in reasons:
        raise CannotRelease(NAME, SPAM_COMPLAINT, _ours(reasons))
    answer = call(NAME, "POST", f"{_stream_url(credentials)}/delete", budget, headers=_headers(credentials),
                  json_body={"Suppressions": [{"EmailAddress": address}]})
    statuses = answer.get("Suppressions") if isinstance(answer, dict) else None
    for status in statuses if isinstance(statuses, list) else []:
        if isinstance(status, dict) and status.get("Status") != "Deleted":
            raise ProviderFailed(NAME, f"Postmark did not delete the suppression: {status.get('Message')}")
    return _ours(reasons)
