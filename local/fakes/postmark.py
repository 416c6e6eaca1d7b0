"""Fake Postmark API (msglog.provider_apis.postmark names the reference), `X-Postmark-Server-Token`:

- Messages: GET /messages/outbound/{id}/details and GET /messages/outbound?count=…&offset=…&fromdate=…&todate=…;
  an unknown message is 422 with ErrorCode 701, as Postmark answers.
- Bounces (postmarkapp.com/developer/api/bounce-api; developer.postmarkapp.com/developer-bounces.html):
  GET /bounces?count=…&offset=…&emailFilter=…&inactive=…, GET /bounces/{bounceid} (the bounce: its `Type`
  and `TypeCode` from the reference's type table), PUT /bounces/{bounceid}/activate; an unknown bounce is
  422 with ErrorCode 407 ("Bounce not found", Postmark's API error codes; the code is not confirmed
  from a page here).
- Suppressions (postmarkapp.com/developer/api/suppressions-api), per message stream:
  GET /message-streams/{stream}/suppressions/dump?EmailAddress=… and POST
  /message-streams/{stream}/suppressions/delete {"Suppressions": [{"EmailAddress"}]}, answered per address
  Deleted or Failed; a SpamComplaint suppression is not deleted (Failed), and deleting a HardBounce one
  reactivates its bounce, as the reference says. An unknown stream is 422 (ErrorCode 1226, "message stream
  not found": the code is not confirmed from a page here).
"""

from __future__ import annotations

import json
from typing import Any

from local.fakes import Answer, FakeApi, Request

# The bounce types' codes, from the Bounce API reference's type table.
TYPE_CODES = {"HardBounce": 1, "Transient": 2, "Unsubscribe": 16, "Subscribe": 32, "AutoResponder": 64,
              "AddressChange": 128, "DnsError": 256, "SpamNotification": 512, "OpenRelayTest": 1024, "Unknown": 2048,
              "SoftBounce": 4096, "VirusNotification": 8192, "ChallengeVerification": 16384,
              "BadEmailAddress": 100000, "SpamComplaint": 100001, "ManuallyDeactivated": 100002,
              "Unconfirmed": 100003, "Blocked": 100006, "SMTPApiError": 100007, "InboundError": 100008,
              "DMARCPolicy": 100009}


NOT_FOUND = Answer(404, {"ErrorCode": 404, "Message": "Not found"})


class FakePostmark(FakeApi):
    def __init__(self, server_token: str) -> None:
        super().__init__()
        self.server_token = server_token
        self.messages: dict[str, dict[str, Any]] = {}
        self.bounces: dict[int, dict[str, Any]] = {}  # Postmark's bounce records, by ID
        # each message stream's suppressions, by lower-cased address
        self.suppressions: dict[str, dict[str, dict[str, Any]]] = {"outbound": {}}

    def suppress(self, email: str, reason: str = "ManualSuppression", *, stream: str = "outbound",
                 origin: str = "Recipient") -> None:
        """Postmark suppresses `email` in `stream` (HardBounce, SpamComplaint, ManualSuppression)."""
        self.suppressions.setdefault(stream, {})[email.lower()] = {
            "EmailAddress": email, "SuppressionReason": reason, "Origin": origin,
            "CreatedAt": "2026-12-03T10:00:00-05:00"}

    def add_bounce(self, bounce_id: int, email: str, kind: str = "HardBounce", *, message_id: str = "",
                   inactive: bool = False, can_activate: bool = True, details: str = "",
                   bounced_at: str = "2026-12-03T10:00:00Z") -> dict[str, Any]:
        """A bounce Postmark recorded (a `Bounced` message event names it by BounceID)."""
        self.bounces[bounce_id] = {"ID": bounce_id, "Type": kind, "TypeCode": TYPE_CODES.get(kind, 2048),
                                   "Name": kind, "MessageID": message_id, "Description": f"{kind} bounce",
                                   "Details": details, "Email": email, "BouncedAt": bounced_at,
                                   "DumpAvailable": False, "Inactive": inactive, "CanActivate": can_activate}
        return self.bounces[bounce_id]

    def deactivate(self, bounce_id: int, email: str, *, can_activate: bool = True) -> None:
        """A hard bounce (or a complaint: can_activate False) that made Postmark deactivate the address."""
        kind = "HardBounce" if can_activate else "SpamComplaint"
        self.add_bounce(bounce_id, email, kind, inactive=True, can_activate=can_activate)
        self.suppress(email, kind)

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
        parts = request.path.split("/")
        if parts[1] == "bounces":
            return self._bounces(request, parts)
        if len(parts) == 5 and parts[1] == "message-streams" and parts[3] == "suppressions":
            return self._suppressions(request, parts[2], parts[4])
        if request.path == "/messages/outbound":
            return self._search(request.query)
        if len(parts) == 5 and parts[1:3] == ["messages", "outbound"] and parts[4] == "details":
            message = self.messages.get(parts[3])
            return Answer(200, message) if message else Answer(422, {"ErrorCode": 701,
                                                                     "Message": "This message was not found."})
        return NOT_FOUND

    def _bounces(self, request: Request, parts: list[str]) -> Answer:
        if len(parts) == 2 and request.method == "GET":
            email, inactive = request.query.get("emailFilter", ""), request.query.get("inactive")
            found = [b for b in self.bounces.values() if email.lower() in b["Email"].lower()
                     and (inactive is None or b["Inactive"] == (inactive == "true"))]
            return Answer(200, {"TotalCount": len(found), "Bounces": found})
        bounce = self.bounces.get(int(parts[2])) if len(parts) > 2 and parts[2].isdigit() else None
        if len(parts) == 3 and request.method == "GET":
            return Answer(200, bounce) if bounce else Answer(422, {"ErrorCode": 407, "Message": "Bounce not found."})
        if len(parts) == 4 and parts[3] == "activate" and request.method == "PUT":
            if bounce is None or not bounce["CanActivate"]:
                return Answer(422, {"ErrorCode": 703, "Message": "This bounce cannot be activated."})
            bounce["Inactive"] = False
            self._lift(bounce["Email"])
            return Answer(200, {"Message": "OK", "Bounce": bounce})
        return NOT_FOUND

    def _lift(self, email: str) -> None:
        """A HardBounce suppression is its inactive bounce: lifting one lifts the other."""
        for bounce in self.bounces.values():
            if bounce["Email"].lower() == email.lower() and bounce["CanActivate"]:
                bounce["Inactive"] = False
        for held in self.suppressions.values():
            if held.get(email.lower(), {}).get("SuppressionReason") == "HardBounce":
                del held[email.lower()]

    def _suppressions(self, request: Request, stream: str, operation: str) -> Answer:
        held = self.suppressions.get(stream)
        if held is None:
            return Answer(422, {"ErrorCode": 1226, "Message": f"The message stream for the provided 'ID' ({stream}) "
                                                              "was not found."})
        if operation == "dump" and request.method == "GET":
            email = request.query.get("EmailAddress", "").lower()
            return Answer(200, {"Suppressions": [s for key, s in held.items() if not email or key == email]})
        if operation == "delete" and request.method == "POST":
            asked = json.loads(request.body or b"{}").get("Suppressions") or []
            return Answer(200, {"Suppressions": [self._delete(held, str(a.get("EmailAddress", ""))) for a in asked]})
        return NOT_FOUND

    def _delete(self, held: dict[str, dict[str, Any]], email: str) -> dict[str, Any]:
        found = held.get(email.lower())
        if found and found["SuppressionReason"] == "SpamComplaint":
            return {"EmailAddress": email, "Status": "Failed",
                    "Message": "You do not have the required authority to change this suppression."}
        if found and found["SuppressionReason"] == "HardBounce":
            self._lift(email)
        held.pop(email.lower(), None)
        return {"EmailAddress": email, "Status": "Deleted", "Message": None}

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
