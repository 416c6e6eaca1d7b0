"""Fake Mailgun Events API (msglog.provider_apis.mailgun names the reference): GET
/v3/{domain}/events with HTTP Basic `api:<key>`, filters `message-id`, `recipient`, `begin`, `end`,
`ascending`, `limit` (≤ 300), and `paging.next` as Mailgun gives it: the same path plus a page token."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import unquote

from local.fakes import Answer, FakeApi, Request


class FakeMailgun(FakeApi):
    def __init__(self, api_key: str, domain: str) -> None:
        super().__init__()
        self.api_key, self.domain = api_key, domain
        self.events: list[dict[str, Any]] = []  # event-data objects, as its webhooks send them
        self._pages: dict[str, tuple[list[dict[str, Any]], int, int]] = {}
        self._tokens = itertools.count(1)
        self.lists: dict[str, set[str]] = {"bounces": set(), "unsubscribes": set(), "complaints": set()}

    def add(self, *event_data: dict[str, Any]) -> None:
        self.events.extend(event_data)

    def route(self, request: Request) -> Answer:
        if request.basic() != ("api", self.api_key):
            return Answer(401, {"message": "Invalid private key"})
        parts = request.path.split("/")
        if len(parts) == 5 and parts[1] == "v3" and parts[2] == self.domain and parts[3] in self.lists:
            return self._list(request.method, parts[3], unquote(parts[4]))
        if len(parts) not in (4, 5) or parts[1] != "v3" or parts[3] != "events":
            return Answer(404, {"message": "Not Found"})
        if parts[2] != self.domain:
            return Answer(404, {"message": f"Domain not found: {parts[2]}"})
        if len(parts) == 5:
            if parts[4] not in self._pages:
                return Answer(400, {"message": "Invalid page token"})
            items, offset, limit = self._pages[parts[4]]
        else:
            try:
                items, limit = self._query(request.query), min(int(request.query.get("limit", "300")), 300)
            except ValueError as error:
                return Answer(400, {"message": str(error)})
            offset = 0
        page = items[offset:offset + limit]
        token = f"p{next(self._tokens)}"
        self._pages[token] = (items, offset + len(page), limit)  # an empty page's next gives an empty page again
        base = f"{self.url}/v3/{self.domain}/events"
        return Answer(200, {"items": page, "paging": {"next": f"{base}/{token}", "first": base, "last": base,
                                                      "previous": base}})

    def _list(self, method: str, name: str, address: str) -> Answer:
        """GET / DELETE /v3/{domain}/{bounces|unsubscribes|complaints}/{address}: 404 when it is not there."""
        if address not in self.lists[name]:
            return Answer(404, {"message": "Address not found in suppressions table"})
        if method == "DELETE":
            self.lists[name].discard(address)
            return Answer(200, {"message": "Suppression has been removed", "address": address})
        return Answer(200, {"address": address, "created_at": "Thu, 03 Dec 2026 10:00:00 UTC"})

    def _query(self, query: dict[str, str]) -> list[dict[str, Any]]:
        if "begin" in query and "end" not in query and "ascending" not in query:
            raise ValueError("ascending must be given when end is not")
        wanted = query.get("message-id", "").strip("<>")
        begin, end = float(query.get("begin", "0")), float(query.get("end", "1e12"))
        items = [e for e in self.events
                 if (not wanted or str(e.get("message", {}).get("headers", {}).get("message-id", "")).strip("<>")
                     == wanted)
                 and (not query.get("recipient") or e.get("recipient") == query["recipient"])
                 and min(begin, end) <= float(e["timestamp"]) <= max(begin, end)]
        return sorted(items, key=lambda e: float(e["timestamp"]), reverse=query.get("ascending") != "yes")
