"""Mailgun's Events API: what Mailgun knows of a message, as the events its webhooks send.

Source: Mailgun API reference, "Events" — GET /v3/{domain_name}/events, HTTP Basic `api:<key>`,
filters `message-id`, `begin`/`end` (epoch seconds), `ascending`, `limit` (300 max); the answer is
{"items": [...], "paging": {"next": <url>, ...}}, and a page with no items is the end
(https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/events/get-v3-domain_name-events;
mailgun-ruby's Mailgun::Events pages the same way). Each item is the `event-data` of a webhook, so
msglog.providers.mailgun.normalize reads it: the same event id (`mailgun.<id>`) as its webhook.
EU domains are served from api.eu.mailgun.net.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from msglog.errors import BadRequest
from msglog.provider_apis import Budget, BudgetSpent, Interrupted, ProviderApiError, ProviderFailed, base_url, call
from msglog.providers import ProviderEvent
from msglog.providers import mailgun as webhook

NAME = "mailgun"
DEFAULT_URL = {"us": "https://api.mailgun.net", "eu": "https://api.eu.mailgun.net"}
PAGE = 300  # the most Mailgun gives a page
MAX_PAGES = 20  # of one message's events: a refresh is bounded (its Budget stops it before, usually)
PACE_SECONDS = 0.5  # Mailgun publishes no number for Events; 2 calls a second stays far below its 429s


def _url(credentials: dict[str, Any]) -> str:
    return f"{base_url(NAME, DEFAULT_URL.get(credentials.get('region') or 'us', DEFAULT_URL['us']))}" \
           f"/v3/{quote(credentials['domain'], safe='')}/events"


def _auth(credentials: dict[str, Any]) -> tuple[str, str]:
    return "api", credentials["api_key"]


def _page(credentials: dict[str, Any], url: str, budget: Budget,
          params: dict[str, Any] | None) -> tuple[list[ProviderEvent], str | None]:
    answer = call(NAME, "GET", url, budget, params=params, basic=_auth(credentials))
    items = answer.get("items") if isinstance(answer, dict) else None
    if not isinstance(items, list):
        raise ProviderFailed(NAME, "the Events answer has no items")
    events = []
    for item in items:
        try:
            events.append(webhook.normalize(item))
        except (BadRequest, AttributeError, TypeError):
            continue  # an event a webhook would have been refused for: not stored either
    following = (answer.get("paging") or {}).get("next") if items else None
    return events, following if isinstance(following, str) and following.startswith(_origin(url)) else None


def _origin(url: str) -> str:
    """scheme://host of the API: a `paging.next` elsewhere is not followed (the key goes with it)."""
    return "/".join(url.split("/", 3)[:3])


def message_events(credentials: dict[str, Any], provider_message_id: str, budget: Budget,
                   known: dict[str, tuple[int, str | None]] | None = None) -> list[ProviderEvent]:
    events: list[ProviderEvent] = []
    url: str | None = _url(credentials)
    params: dict[str, Any] | None = {"message-id": provider_message_id, "ascending": "yes", "limit": PAGE}
    for _ in range(MAX_PAGES):
        if url is None:
            break
        try:
            page, url = _page(credentials, url, budget, params)
        except (ProviderApiError, BudgetSpent) as stop:
            if events:  # the pages read before it are kept (no recipient is known to be complete)
                raise Interrupted(stop, events, set()) from None
            raise
        events += page
        params = None  # paging.next carries the query
    return events


def window(credentials: dict[str, Any], start: datetime, end: datetime, budget: Budget,
           position: str | None) -> tuple[list[ProviderEvent], str | None]:
    """One page of the events of [start, end], oldest first, and where the next page is (None: done)."""
    if position:
        return _page(credentials, position, budget, None)
    return _page(credentials, _url(credentials), budget,
                 {"begin": f"{start.timestamp():.0f}", "end": f"{end.timestamp():.0f}", "ascending": "yes",
                  "limit": PAGE})


# Mailgun's suppression lists -> our reasons. Source: Mailgun API reference, "Bounces", "Unsubscribes",
# "Complaints" — GET and DELETE /v3/{domain}/{list}/{address}: 200 when it is there, 404 when it is not.
LISTS = {"bounces": "bounce", "unsubscribes": "unsubscribe", "complaints": "complaint"}


def _list_url(credentials: dict[str, Any], name: str, address: str) -> str:
    region = DEFAULT_URL.get(credentials.get("region") or "us", DEFAULT_URL["us"])
    return f"{base_url(NAME, region)}/v3/{quote(credentials['domain'], safe='')}/{name}/{quote(address, safe='@')}"


def held(credentials: dict[str, Any], address: str, budget: Budget) -> list[str]:
    """Why Mailgun would not send to `address`: the lists it is on."""
    return [reason for name, reason in LISTS.items()
            if call(NAME, "GET", _list_url(credentials, name, address), budget, basic=_auth(credentials),
                    missing_ok=True) is not None]


def release(credentials: dict[str, Any], address: str, budget: Budget) -> list[str]:
    """Take `address` off each of Mailgun's lists; the reasons it was removed for."""
    return [reason for name, reason in LISTS.items()
            if call(NAME, "DELETE", _list_url(credentials, name, address), budget, basic=_auth(credentials),
                    missing_ok=True) is not None]
