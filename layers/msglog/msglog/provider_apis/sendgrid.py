"""SendGrid's Email Activity API (an add-on the account must have): what SendGrid knows of a message.

Source: Twilio SendGrid API reference, "Email Activity" — GET /v3/messages?query=…&limit=… (filter
all messages; `msg_id LIKE '<X-Message-ID>%'` finds every recipient's message of one send, per
SendGrid support's "How To Filter results with Activity Feed API for X Message ID"), and
GET /v3/messages/{msg_id} (one message's `events`: `event_name`, `processed` time, `reason`,
`bounce_type`…); `Authorization: Bearer <key>`; rate limit 6 requests a minute, 429 beyond
(https://www.twilio.com/docs/sendgrid/api-reference/email-activity).
Each activity event is rewritten as the webhook event it stands for and read by
msglog.providers.sendgrid.normalize: the same mapping; its id is derived from that content, so a
second refresh finds the same ids (a webhook's own copy of the event carries more fields, and so
another id: the event log may show both; statuses and counts do not change twice).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from msglog.addresses import recipient_key
from msglog.clock import now
from msglog.errors import BadRequest
from msglog.provider_apis import Budget, BudgetSpent, Interrupted, ProviderApiError, ProviderFailed, base_url, call
from msglog.providers import ProviderEvent
from msglog.providers import sendgrid as webhook

NAME = "sendgrid"
DEFAULT_URL = "https://api.sendgrid.com"
PACE_SECONDS = 10.0  # 6 requests a minute (documented)
LIMIT = 1000  # the most one filter answer lists
# The activity feed's event names -> the webhook's
WEBHOOK_EVENT = {"bounced": "bounce", "opened": "open", "clicked": "click", "spam_report": "spamreport"}


def _headers(credentials: dict[str, Any]) -> dict[str, str]:
    return {"authorization": f"Bearer {credentials['api_key']}"}


def _messages(credentials: dict[str, Any], query: str, budget: Budget) -> list[dict[str, Any]]:
    answer = call(NAME, "GET", f"{base_url(NAME, DEFAULT_URL)}/v3/messages", budget,
                  params={"query": query, "limit": LIMIT}, headers=_headers(credentials))
    messages = answer.get("messages") if isinstance(answer, dict) else None
    if not isinstance(messages, list):
        raise ProviderFailed(NAME, "the Email Activity answer has no messages")
    return [m for m in messages if isinstance(m, dict) and isinstance(m.get("msg_id"), str)]


def _epoch(value: object) -> float | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def as_webhook(detail: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """One activity event as the Event Webhook would have sent it (the fields the mapping reads)."""
    name = str(event.get("event_name") or "")
    data: dict[str, Any] = {"event": WEBHOOK_EVENT.get(name, name), "email": detail.get("to_email"),
                            "timestamp": _epoch(event.get("processed")), "sg_message_id": detail.get("msg_id")}
    if name == "bounced":
        data["type"] = "blocked" if event.get("bounce_type") == "blocked" else "bounce"
    if event.get("reason"):
        data["reason"] = event["reason"]
    custom = detail.get("unique_args")
    if isinstance(custom, dict) and isinstance(custom.get("message_id"), str):
        data["message_id"] = custom["message_id"]
    return data


def _details(credentials: dict[str, Any], msg_id: str, budget: Budget) -> list[ProviderEvent]:
    detail = call(NAME, "GET", f"{base_url(NAME, DEFAULT_URL)}/v3/messages/{quote(msg_id, safe='')}", budget,
                  headers=_headers(credentials), missing_ok=True)
    if not isinstance(detail, dict):
        return []
    events = []
    for event in detail.get("events") or []:
        try:
            events.append(webhook.normalize(as_webhook(detail, event if isinstance(event, dict) else {})))
        except BadRequest:
            continue  # an event a webhook would have been refused for: not stored either
    return events


def _key(message: dict[str, Any]) -> str | None:
    try:
        return recipient_key(str(message.get("to_email") or ""), "email")
    except ValueError:
        return None


def _plan(listed: list[dict[str, Any]], known: dict[str, tuple[int, str | None]] | None,
          ) -> tuple[list[dict[str, Any]], set[str]]:
    """The listed messages whose details to read, in the order to read them, and the recipient keys known to
    be up to date already. `known`: recipient key -> (our status's rank, the provider time up to which we
    know its events, None: none yet); None reads every message in the listed order. A recipient not in
    `known` (not shown to the caller) is not read; one whose provider-side last event we already know is not
    read again; the others go lowest status first (the least advanced, those a refresh most likely changes)."""
    if known is None:
        return listed, set()
    todo: list[tuple[int, str, dict[str, Any]]] = []
    up_to_date: set[str] = set()
    for message in listed:
        key = _key(message)
        if key is None or key not in known:
            continue
        status_rank, until = known[key]
        last, ours = _epoch(message.get("last_event_time")), _epoch(until) if until else None
        if last is not None and ours is not None and ours >= last:
            up_to_date.add(key)
        else:
            todo.append((status_rank, str(message["msg_id"]), message))
    return [message for _, _, message in sorted(todo, key=lambda item: item[:2])], up_to_date


def message_events(credentials: dict[str, Any], provider_message_id: str, budget: Budget,
                   known: dict[str, tuple[int, str | None]] | None = None) -> list[ProviderEvent]:
    """Every recipient's message of the send whose X-Message-ID (or msg_id) is `provider_message_id` (with
    `known`: see _plan). One list call, then one details call per recipient: stopped part way (a 429 — 6
    requests a minute —, the budget), it raises Interrupted with what it read."""
    prefix = provider_message_id.split(".filter")[0].replace("'", "")
    todo, reached = _plan(_messages(credentials, f"msg_id LIKE '{prefix}%'", budget), known)
    events: list[ProviderEvent] = []
    for message in todo:
        try:
            events += _details(credentials, message["msg_id"], budget)
        except (ProviderApiError, BudgetSpent) as stop:
            raise Interrupted(stop, events, reached) from None
        if key := _key(message):
            reached.add(key)
    return events


STAMP = "%Y-%m-%dT%H:%M:%SZ"
MAX_DEPTH = 24  # halvings of a window: 30 days (2.6 M seconds) reach single seconds in 22
# The listing filters by a message's LAST event: one with events in the window whose last event came after it
# (an open a day later) is listed only if the query reaches past the window's end — up to this much (and now).
# The recovery keeps only the events inside the window (msglog.recovery).
LOOK_AHEAD = timedelta(days=1)


def _listing(credentials: dict[str, Any], low: int, high: int, budget: Budget) -> list[dict[str, Any]]:
    """The messages whose last event falls in the seconds [low, high] (SendGrid's BETWEEN takes both ends)."""
    first, last = (datetime.fromtimestamp(t, UTC).strftime(STAMP) for t in (low, high))
    return _messages(credentials, f'last_event_time BETWEEN TIMESTAMP "{first}" AND TIMESTAMP "{last}"', budget)


def _state(position: str | None, start: datetime, end: datetime) -> dict[str, Any]:
    """The checkpoint: `windows` still to list ([low, high, depth], epoch seconds), the msg_ids of the last
    listing still to read, and the seconds found to hold LIMIT or more (`cut`). A checkpoint of before the
    split (msg_ids, comma-separated) reads as ids alone."""
    if position is None:  # by last event: a message with events in the window may have its last one after it
        until = max(end, min(now(), end + LOOK_AHEAD))
        return {"windows": [[int(start.timestamp()), int(until.timestamp()), 0]], "ids": [], "cut": []}
    if position.startswith("{"):
        state: dict[str, Any] = json.loads(position)
        return state
    return {"windows": [], "ids": position.split(","), "cut": []}


def _list_next(credentials: dict[str, Any], state: dict[str, Any], budget: Budget) -> None:
    """List the first window still to list: its msg_ids to read, or, when it holds LIMIT (there may be more:
    the filter has no paging), its two halves to list instead; a single second (or the deepest split) that
    still holds LIMIT is read as far as it goes and noted in `cut`."""
    low, high, depth = state["windows"].pop(0)
    found = _listing(credentials, low, high, budget)
    if len(found) >= LIMIT and low < high and depth < MAX_DEPTH:
        middle = (low + high) // 2
        state["windows"][:0] = [[low, middle, depth + 1], [middle + 1, high, depth + 1]]
        return
    if len(found) >= LIMIT:
        state["cut"].append([low, high])
    state["ids"] = [m["msg_id"] for m in found]


def _note(cut: list[list[int]]) -> str | None:
    if not cut:
        return None
    spans = ", ".join(datetime.fromtimestamp(low, UTC).strftime(STAMP) + (
        "" if low == high else " to " + datetime.fromtimestamp(high, UTC).strftime(STAMP)) for low, high in cut)
    return (f"SendGrid lists at most {LIMIT} messages a query and has no paging: {spans} held {LIMIT} or more "
            f"messages, and only {LIMIT} of each were read")


def window(credentials: dict[str, Any], start: datetime, end: datetime, budget: Budget,
           position: str | None) -> tuple[list[ProviderEvent], str | None, str | None]:
    """The events of the messages whose last event falls in [start, end + LOOK_AHEAD], a call a page: a listing of a
    window (halved while it answers LIMIT), or one message's details. Returns the events, the checkpoint
    (None: done) and, when done, a note of what SendGrid's limit left unread (None: nothing)."""
    state = _state(position, start, end)
    events: list[ProviderEvent] = []
    if state["ids"]:
        events = _details(credentials, state["ids"].pop(0), budget)
    elif state["windows"]:
        _list_next(credentials, state, budget)
    if state["ids"] or state["windows"]:
        return events, json.dumps(state, separators=(",", ":")), None
    return events, None, _note(state["cut"])


# SendGrid's suppression lists -> our reasons. Source: Twilio SendGrid API reference, "Suppressions" —
# GET/DELETE /v3/suppression/bounces/{email} and /v3/suppression/spam_reports/{email} (a list, empty when
# not there; DELETE answers 204), GET/DELETE /v3/asm/suppressions/global/{email} ({} when not there), and
# the unsubscribe groups: GET /v3/asm/suppressions/{email} ({"suppressions": [{"id", "suppressed"}]}),
# DELETE /v3/asm/groups/{group_id}/suppressions/{email}.
LISTS = {"/v3/suppression/bounces/": "bounce", "/v3/suppression/spam_reports/": "complaint",
         "/v3/asm/suppressions/global/": "unsubscribe"}


def _held_lists(credentials: dict[str, Any], address: str, budget: Budget) -> list[tuple[str, str]]:
    """(path to delete, reason) of each list holding `address`."""
    base, email = base_url(NAME, DEFAULT_URL), quote(address, safe="@")
    found = []
    for path, reason in LISTS.items():
        answer = call(NAME, "GET", f"{base}{path}{email}", budget, headers=_headers(credentials), missing_ok=True)
        if answer:  # a non-empty list, or the global unsubscribe's object
            found.append((f"{path}{email}", reason))
    groups = call(NAME, "GET", f"{base}/v3/asm/suppressions/{email}", budget, headers=_headers(credentials),
                  missing_ok=True)
    for group in (groups or {}).get("suppressions") or [] if isinstance(groups, dict) else []:
        if isinstance(group, dict) and group.get("suppressed") and isinstance(group.get("id"), int):
            found.append((f"/v3/asm/groups/{group['id']}/suppressions/{email}", "unsubscribe"))
    return found


def held(credentials: dict[str, Any], address: str, budget: Budget) -> list[str]:
    return sorted({reason for _, reason in _held_lists(credentials, address, budget)})


def release(credentials: dict[str, Any], address: str, budget: Budget) -> list[str]:
    removed = set()
    for path, reason in _held_lists(credentials, address, budget):
        call(NAME, "DELETE", f"{base_url(NAME, DEFAULT_URL)}{path}", budget, headers=_headers(credentials),
             missing_ok=True)
        removed.add(reason)
    return sorted(removed)
