"""Fake Postmark Messages API (msglog.provider_apis.postmark names the reference): GET
/messages/outbound/{id}/details and GET /messages/outbound?count=…&offset=…&fromdate=…&todate=…,
`X-Postmark-Server-Token`; an unknown message is 422 with ErrorCode 701, as Postmark answers."""

from __future__ import annotations

from typing import Any

from local.fakes import Answer, FakeApi, Request


class FakePostmark(FakeApi):
    def __init__(self, server_token: str) -> None:
        super().__init__()
        self.server_token = server_token
        self.messages: dict[str, dict[str, Any]] = {}
        self.bounces: dict[int, dict[str, Any]] = {}  # Postmark's bounce records, by ID

    def deactivate(self, bounce_id: int, email: str, *, can_activate: bool = True) -> None:
        """A hard bounce (or a complaint: can_activate False) that made Postmark deactivate the address."""
        self.bounces[bounce_id] = {"ID": bounce_id, "Type": "HardBounce", "Email": email, "Inactive": True,
                                   "CanActivate": can_activate, "BouncedAt": "2026-12-03T10:00:00Z"}

    def add_message(self, message_id: str, recipients: list[str], received_at: str, *, subject: str = "Hello",
                    metadata: dict[str, str] | None = None) -> None:
        self.messages[message_id] = {"MessageID": message_id, "Recipients": recipients, "ReceivedAt": received_at,
                                     "Subject": subject, "Status": "Sent", "Metadata": metadata or {},
                                     "To": [{"Email": r, "Name": None} for r in recipients], "MessageEvents": []}

    def add_event(self, message_id: str, recipient: str, kind: str, received_at: str, **details: Any) -> None:
        self.messages[message_id]["MessageEvents"].append(
            {"Recipient": recipient, "Type": kind, "ReceivedAt": received_at, "Details": details})

    def route(self, request: Request) -> Answer:
        if request.headers.get("x-postmark-server-token") != self.server_token:
            return Answer(401, {"ErrorCode": 10, "Message": "The Server Token you provided in the "
                                                          "X-Postmark-Server-Token request header was invalid."})
        if request.path == "/bounces":
            email, inactive = request.query.get("emailFilter", ""), request.query.get("inactive")
            found = [b for b in self.bounces.values() if email.lower() in b["Email"].lower()
                     and (inactive is None or b["Inactive"] == (inactive == "true"))]
            return Answer(200, {"TotalCount": len(found), "Bounces": found})
        parts = request.path.split("/")
        if len(parts) == 4 and parts[1] == "bounces" and parts[3] == "activate" and request.method == "PUT":
            bounce = self.bounces.get(int(parts[2]))
            if bounce is None or not bounce["CanActivate"]:
                return Answer(422, {"ErrorCode": 703, "Message": "This bounce cannot be activated."})
            bounce["Inactive"] = False
            return Answer(200, {"Message": "OK", "Bounce": bounce})
        if request.path == "/messages/outbound":
            return self._search(request.query)
        parts = request.path.split("/")
        if len(parts) == 5 and parts[1:3] == ["messages", "outbound"] and parts[4] == "details":
            message = self.messages.get(parts[3])
            return Answer(200, message) if message else Answer(422, {"ErrorCode": 701,
                                                                     "Message": "This message was not found."})
        return Answer(404, {"ErrorCode": 404, "Message": "Not found"})

    def _search(self, query: dict[str, str]) -> Answer:
        if "count" not in query or "offset" not in query:
            return Answer(422, {"ErrorCode": 600, "Message": "count and offset are required"})
        count, offset = min(int(query["count"]), 500), int(query["offset"])
        start, end = query.get("fromdate", ""), query.get("todate", "9999")
        found = sorted((m for m in self.messages.values() if start <= m["ReceivedAt"][:19] <= end),
                       key=lambda m: m["ReceivedAt"], reverse=True)
        summary = ("MessageID", "Recipients", "ReceivedAt", "Subject", "Status", "Metadata")
        return Answer(200, {"TotalCount": len(found),
                            "Messages": [{k: m[k] for k in summary} for m in found[offset:offset + count]]})
