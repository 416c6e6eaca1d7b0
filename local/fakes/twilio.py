"""Fake Twilio Message resource (msglog.provider_apis.twilio names the reference): GET
/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json and the list Messages.json (`DateSent>`,
`DateSent<`, `PageSize`, paged by `next_page_uri`), HTTP Basic with the account SID and auth token."""

from __future__ import annotations

from typing import Any

from local.fakes import Answer, FakeApi, Request


class FakeTwilio(FakeApi):
    def __init__(self, account_sid: str, auth_token: str) -> None:
        super().__init__()
        self.account_sid, self.auth_token = account_sid, auth_token
        self.messages: dict[str, dict[str, Any]] = {}

    def set(self, sid: str, to: str, status: str, *, error_code: int | None = None,
            date_sent: str = "2026-12-03") -> None:
        self.messages[sid] = {"sid": sid, "account_sid": self.account_sid, "to": to, "from": "+15550001111",
                              "status": status, "error_code": error_code, "date_sent": date_sent,
                              "date_updated": date_sent, "uri": f"{self._prefix}/Messages/{sid}.json"}

    @property
    def _prefix(self) -> str:
        return f"/2010-04-01/Accounts/{self.account_sid}"

    def route(self, request: Request) -> Answer:
        if request.basic() != (self.account_sid, self.auth_token):
            return Answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
        if request.path == f"{self._prefix}/Messages.json":
            return self._list(request.query)
        if request.path.startswith(f"{self._prefix}/Messages/") and request.path.endswith(".json"):
            sid = request.path.removeprefix(f"{self._prefix}/Messages/").removesuffix(".json")
            if sid in self.messages:
                return Answer(200, self.messages[sid])
        return Answer(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})

    def _list(self, query: dict[str, str]) -> Answer:
        size, page = min(int(query.get("PageSize", "50")), 1000), int(query.get("Page", "0"))
        after, before = query.get("DateSent>", ""), query.get("DateSent<", "9999")
        found = [m for m in self.messages.values() if after <= m["date_sent"][:10] <= before]
        rest = found[(page + 1) * size:]
        following = (f"{self._prefix}/Messages.json?PageSize={size}&Page={page + 1}"
                     f"&DateSent%3E={after}&DateSent%3C={before}") if rest else None
        return Answer(200, {"messages": found[page * size:(page + 1) * size], "next_page_uri": following,
                            "page": page, "page_size": size})
