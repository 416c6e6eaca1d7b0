"""Fake SendGrid Email Activity API (msglog.provider_apis.sendgrid names the reference): GET
/v3/messages?query=…&limit=… (the queries `msg_id LIKE '<prefix>%'` and `last_event_time BETWEEN
TIMESTAMP "…" AND TIMESTAMP "…"`), GET /v3/messages/{msg_id}, `Authorization: Bearer <key>`."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from local.fakes import Answer, FakeApi, Request

LIKE = re.compile(r"^msg_id LIKE '([^'%]*)%'$")
BETWEEN = re.compile(r'^last_event_time BETWEEN TIMESTAMP "([^"]+)" AND TIMESTAMP "([^"]+)"$')


class FakeSendgrid(FakeApi):
    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.messages: dict[str, dict[str, Any]] = {}
        self.lists: dict[str, set[str]] = {"bounces": set(), "spam_reports": set(), "global": set()}
        self.groups: dict[int, set[str]] = {}  # unsubscribe group id -> its addresses

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
        text, limit = query.get("query", ""), min(int(query.get("limit", "10")), 1000)
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
