"""Twilio's Message resource: one SMS's current status, as its status callback would have said it.

Source: Twilio REST API reference, "Message resource" — GET
/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json, HTTP Basic (account SID, auth token); the
resource has `sid`, `to`, `status`, `error_code`, `date_updated`; the list
GET /2010-04-01/Accounts/{AccountSid}/Messages.json?DateSent>=…&DateSent<=…&PageSize=… pages by
`next_page_uri`; over the account's concurrency Twilio answers 429 (error 20429)
(https://www.twilio.com/docs/messaging/api/message-resource; twilio-python's MessageInstance).
The resource is read by msglog.providers.twilio.normalize as the callback's form fields: the same
event id (`twilio.<sid>.<status>`) as the callback, and no event time (the callback has none either:
both take the time the status was first seen, so they share one key).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from msglog.errors import BadRequest
from msglog.provider_apis import Budget, ProviderFailed, base_url, call
from msglog.providers import ProviderEvent
from msglog.providers import twilio as webhook

NAME = "twilio"
DEFAULT_URL = "https://api.twilio.com"
PACE_SECONDS = 0.2  # well within an account's concurrency limit
PAGE = 1000  # the most PageSize Twilio takes
# The list filters by DateSent (a day): an SMS sent before the window may get its final status in it (a carrier
# retries for hours, up to the message's validity period, ≤ 36,000 s). The days from this long before it are listed.
LOOK_BACK = timedelta(days=1)


def _base(credentials: dict[str, Any]) -> str:
    return f"{base_url(NAME, DEFAULT_URL)}/2010-04-01/Accounts/{quote(credentials['account_sid'], safe='')}"


def _auth(credentials: dict[str, Any]) -> tuple[str, str]:
    return credentials["account_sid"], credentials["auth_token"]


def as_callback(resource: dict[str, Any]) -> dict[str, str]:
    """The resource as the status callback's fields."""
    fields = {"MessageSid": str(resource.get("sid") or ""), "MessageStatus": str(resource.get("status") or ""),
              "To": str(resource.get("to") or "")}
    if resource.get("error_code") not in (None, ""):
        fields["ErrorCode"] = str(resource["error_code"])
    return fields


def _event(resource: Any) -> list[ProviderEvent]:
    try:
        return [webhook.normalize(as_callback(resource), {})] if isinstance(resource, dict) else []
    except BadRequest:
        return []  # a resource a callback would have been refused for: not stored either


def message_events(credentials: dict[str, Any], provider_message_id: str, budget: Budget,
                   known: dict[str, tuple[int, str | None]] | None = None) -> list[ProviderEvent]:
    resource = call(NAME, "GET", f"{_base(credentials)}/Messages/{quote(provider_message_id, safe='')}.json", budget,
                    basic=_auth(credentials), missing_ok=True)
    return _event(resource)


def window(credentials: dict[str, Any], start: datetime, end: datetime, budget: Budget,
           position: str | None) -> tuple[list[ProviderEvent], str | None]:
    """One page of the messages sent in [start - LOOK_BACK, end] (Twilio filters by day: the days that hold it)."""
    if position:
        answer = call(NAME, "GET", f"{base_url(NAME, DEFAULT_URL)}{position}", budget, basic=_auth(credentials))
    else:
        answer = call(NAME, "GET", f"{_base(credentials)}/Messages.json", budget, basic=_auth(credentials),
                      params={"DateSent>": (start - LOOK_BACK).strftime("%Y-%m-%d"),
                              "DateSent<": end.strftime("%Y-%m-%d"), "PageSize": PAGE})
    messages = answer.get("messages") if isinstance(answer, dict) else None
    if not isinstance(messages, list):
        raise ProviderFailed(NAME, "the message list has no messages")
    following = answer.get("next_page_uri")
    return [e for m in messages for e in _event(m)], following if isinstance(following, str) and following.startswith(
        "/2010-04-01/") else None


# Twilio keeps a recipient's STOP per sender and has no API to read or lift it: the recipient replies
# START (https://help.twilio.com/articles/223134027). Said so per address, never guessed.
NO_LIST_API = "Twilio has no API for a recipient's STOP: the recipient must reply START"
