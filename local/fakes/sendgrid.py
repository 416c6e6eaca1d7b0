"""Fake SendGrid Email Activity API (msglog.provider_apis.sendgrid names the reference): GET
/v3/messages?query=…&limit=… (the queries `msg_id LIKE '<prefix>%'` and `last_event_time BETWEEN
TIMESTAMP "…" AND TIMESTAMP "…"`; at most `limit`, ≤ 1,000, and no paging), GET /v3/messages/{msg_id},
`Authorization: Bearer <key>`.

Rate limited as SendGrid documents the Email Activity API: 6 requests a minute (both routes together);
beyond, 429 `{"errors": [{"message": "too many requests"}]}` with `X-RateLimit-Limit`,
`X-RateLimit-Remaining: 0` and `X-RateLimit-Reset` (the Unix time the limit lifts), as SendGrid's "Rate
Limits" page shows (https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits).
`pass_time(seconds)` lets a test skip a minute; `rate_limit = None` turns it off.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from typing import Any
from urllib.parse import unquote

from local.fakes import Answer, FakeApi, Request

LIKE = re.compile(r"^msg_id LIKE '([^'%]*)%'$")
BETWEEN = re.compile(r'^last_event_time BETWEEN TIMESTAMP "([^"]+)" AND TIMESTAMP "([^"]+)"$')
RATE_LIMIT, RATE_WINDOW = 6, 60.0  # Email Activity: 6 requests a minute
MAX_LIMIT = 1000  # the most one filter answer lists


class FakeSendgrid(FakeApi):
    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.messages: dict[str, dict[str, Any]] = {}
        self.lists: dict[str, set[str]] = {"bounces": set(), "spam_reports": set(), "global": set()}
        self.groups: dict[int, set[str]] = {}  # unsubscribe group id -> its addresses
        self.rate_limit: int | None = RATE_LIMIT
        self.max_limit = MAX_LIMIT
        self._served: deque[float] = deque()  # when each Email Activity request of the last minute was served
        self._skipped = 0.0  # seconds pass_time() skipped
        self._rate_lock = threading.Lock()

    def pass_time(self, seconds: float) -> None:
        """As if `seconds` went by: the rate limit's minute moves on."""
        self._skipped += seconds

    def _limited(self) -> Answer | None:
        """The 429 of the Email Activity API's rate limit, or None (and this request counted)."""
        if self.rate_limit is None:
            return None
        with self._rate_lock:
            clock = time.monotonic() + self._skipped
            while self._served and self._served[0] <= clock - RATE_WINDOW:
                self._served.popleft()
            if len(self._served) >= self.rate_limit:
                reset = time.time() + (self._served[0] + RATE_WINDOW - clock)
                return Answer(429, {"errors": [{"field": None, "message": "too many requests"}]},
                              {"X-RateLimit-Limit": str(self.rate_limit), "X-RateLimit-Remaining": "0",
                               "X-RateLimit-Reset": str(math.ceil(reset))})
            self._served.append(clock)
            return None

    def add_message(self, msg_id: str, to_email: str, *, subject: str = "Hello",
                    unique_args: dict[str, str] | None = None) -> None:
        self.messages[msg_id] = {"msg_id": msg_id, "from_email": "school@example.org", "to_email": to_email,
                                 "subject": subject, "status": "processing", "unique_args": unique_args or {},
                                 "events": [], "last_event_time": None}

    def add_event(self, msg_id: str, event_name: str, processed: str, **extra: Any) -> None:
        message = self.messages[msg_id]
        message["events"].append({"event_name": event_name, "processed": processed, **extra})
        message["last_event_time"] = max(message["last_event_time"] or "", processed)
        message["status"] = {"delivered": "delivered", "bounced": "not_delivered", "dropped": "not_delivered"}.get(
            event_name, message["status"])

    def route(self, request: Request) -> Answer:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return Answer(401, {"errors": [{"field": None, "message": "authorization required"}]})
        if request.path.startswith(("/v3/suppression/", "/v3/asm/")):
            return self._suppressions(request.method, request.path)
        if request.path.startswith("/v3/messages") and (limited := self._limited()):
            return limited
        if request.path == "/v3/messages":
            return self._filter(request.query)
        if request.path.startswith("/v3/messages/"):
            message = self.messages.get(request.path.removeprefix("/v3/messages/"))
            if message is None:
                return Answer(404, {"errors": [{"message": "Not Found"}]})
            return Answer(200, message)
        return Answer(404, {"errors": [{"message": "Not Found"}]})

    def _suppressions(self, method: str, path: str) -> Answer:
        parts = [unquote(p) for p in path.split("/")]
        if len(parts) == 5 and parts[2] == "suppression" and parts[3] in ("bounces", "spam_reports"):
            held = parts[4] in self.lists[parts[3]]
            if method == "DELETE":
                self.lists[parts[3]].discard(parts[4])
                return Answer(204)
            return Answer(200, [{"email": parts[4], "created": 1764756000}] if held else [])
        if len(parts) == 6 and parts[2:5] == ["asm", "suppressions", "global"]:
            if method == "DELETE":
                self.lists["global"].discard(parts[5])
                return Answer(204)
            return Answer(200, {"recipient_email": parts[5]} if parts[5] in self.lists["global"] else {})
        if len(parts) == 5 and parts[2:4] == ["asm", "suppressions"]:
            return Answer(200, {"suppressions": [{"id": gid, "name": f"group {gid}", "suppressed": parts[4] in emails}
                                                 for gid, emails in self.groups.items()]})
        if len(parts) == 7 and parts[2:4] == ["asm", "groups"] and parts[5] == "suppressions" and method == "DELETE":
            self.groups.get(int(parts[4]), set()).discard(parts[6])
            return Answer(204)
        return Answer(404, {"errors": [{"message": "Not Found"}]})

    def _filter(self, query: dict[str, str]) -> Answer:
        text, limit = query.get("query", ""), min(int(query.get("limit", "10")), self.max_limit)
        if like := LIKE.match(text):
            found = [m for m in self.messages.values() if m["msg_id"].startswith(like.group(1))]
        elif between := BETWEEN.match(text):
            start, end = (value.replace("Z", "") for value in between.groups())
            found = [m for m in self.messages.values()
                     if m["last_event_time"] and start <= m["last_event_time"][:19] <= end]
        else:
            return Answer(400, {"errors": [{"field": "query", "message": "invalid query"}]})
        summary = ("msg_id", "from_email", "to_email", "subject", "status", "last_event_time")
        return Answer(200, {"messages": [{k: m[k] for k in summary} for m in found[:limit]]})
