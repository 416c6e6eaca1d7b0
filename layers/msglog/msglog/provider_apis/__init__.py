"""Calling the providers' own APIs (refresh, recovery): one module per provider, each turning what its
API says into the ProviderEvents its webhook module makes (msglog.providers: the same mappers, so the
same keys and precedence), and this module's one HTTP path.

A module offers:
  DEFAULT_URL                                  the provider's API base URL (`<PROVIDER>_API_URL` overrides it)
  message_events(credentials, provider_message_id, budget, known=None) -> list[ProviderEvent]
                                               what the provider knows of one sent message, every recipient
                                               (`known`: recipient key -> (status rank, known up to): what
                                               we know already, so a module of one call per recipient
                                               reads the least advanced first and skips the up-to-date;
                                               stopped part way, Interrupted keeps what it read)
  PACE_SECONDS                                 the least time between two calls of a recovery (its rate limits)

Every call has a timeout and counts against a Budget (calls and seconds): a refresh answers within API
Gateway's 30 s. A 429 is RateLimited (with the provider's Retry-After), a refused key NotAllowed, any
other failure ProviderFailed; none of them is retried here: the caller says what is left.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from importlib import import_module
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import urllib3

APIS = ("mailgun", "postmark", "sendgrid", "twilio")  # SES has none to ask for events (README, Provider APIs)
TIMEOUT = urllib3.Timeout(connect=3.0, read=8.0)
DEFAULT_RETRY_AFTER = 60.0  # seconds, when a 429 does not say
_pool: urllib3.PoolManager | None = None


class ProviderApiError(Exception):
    def __init__(self, provider: str, detail: str, status: int | None = None):
        super().__init__(f"{provider}: {detail}")
        self.provider, self.detail, self.status = provider, detail, status


class RateLimited(ProviderApiError):
    def __init__(self, provider: str, retry_after: float):
        super().__init__(provider, f"the provider is rate limiting; retry after {retry_after:g} s", 429)
        self.retry_after = retry_after


class NotAllowed(ProviderApiError):
    """The provider refused the tenant's API credentials (401, 403)."""


class ProviderFailed(ProviderApiError):
    """A 5xx, a timeout, an unreadable answer."""


class CannotRelease(ProviderApiError):
    """The provider holds the address and has no API to take it off its list for this reason (e.g. a spam
    complaint at Postmark): `held` says why it holds it."""

    def __init__(self, provider: str, detail: str, held: list[str]):
        super().__init__(provider, detail)
        self.held = held


class BudgetSpent(Exception):
    """The calls or the time a refresh may use are used up."""


class Interrupted(Exception):
    """A provider API error or the budget stopped one `message_events` part way: `events`, what it fetched
    before (the caller keeps them), `reached`, the recipient keys whose events it fetched in full."""

    def __init__(self, stop: ProviderApiError | BudgetSpent, events: list[Any], reached: set[str]):
        super().__init__(str(stop))
        self.stop, self.events, self.reached = stop, events, reached


@dataclass(slots=True)
class Budget:
    calls: int
    seconds: float
    used: int = 0
    started: float = field(default_factory=time.monotonic)

    def spend(self) -> None:
        if self.used >= self.calls or time.monotonic() - self.started >= self.seconds:
            raise BudgetSpent()
        self.used += 1


def module(provider: str) -> ModuleType | None:
    return import_module(f"msglog.provider_apis.{provider}") if provider in APIS else None


def base_url(provider: str, default: str) -> str:
    """`<PROVIDER>_API_URL` from the environment (an operator's setting: the local fakes, a proxy), else
    the provider's own. Never from a tenant: a tenant-given URL would make the service call anywhere."""
    return (os.environ.get(f"{provider.upper()}_API_URL") or default).rstrip("/")


def _http() -> urllib3.PoolManager:
    global _pool
    if _pool is None:
        _pool = urllib3.PoolManager(timeout=TIMEOUT, retries=False)
    return _pool


def call(provider: str, method: str, url: str, budget: Budget, *, params: dict[str, Any] | None = None,
         headers: dict[str, str] | None = None, basic: tuple[str, str] | None = None,
         missing_ok: bool = False, json_body: Any = None) -> Any:
    """One call to a provider's API: its JSON answer (None: 404 with `missing_ok`); `json_body` is sent
    as the request's JSON body."""
    budget.spend()
    outgoing = {"accept": "application/json", "user-agent": "message-log/1", **(headers or {})}
    if basic:
        outgoing.update(urllib3.make_headers(basic_auth=f"{basic[0]}:{basic[1]}"))
    body = None
    if json_body is not None:
        body, outgoing["content-type"] = json.dumps(json_body).encode(), "application/json"
    target = f"{url}?{urlencode(params)}" if params else url
    try:
        response = _http().request(method, target, headers=outgoing, body=body)
    except urllib3.exceptions.HTTPError as error:  # timeouts, refused connections
        raise ProviderFailed(provider, f"no answer ({type(error).__name__})") from None
    status = response.status
    if status == 429:
        raise RateLimited(provider, _retry_after(response.headers.get("retry-after"),
                                                 response.headers.get("x-ratelimit-reset")))
    if status in (401, 403):
        raise NotAllowed(provider, f"the provider refused the API credentials ({status})", status)
    if status == 404 and missing_ok:
        return None
    if not 200 <= status < 300:
        raise ProviderFailed(provider, f"the provider answered {status}", status)
    try:
        return json.loads(response.data) if response.data else {}
    except ValueError:
        raise ProviderFailed(provider, "the provider's answer is not JSON", status) from None


def _retry_after(value: str | None, reset: str | None = None) -> float:
    """Retry-After in seconds (the HTTP-date form is read as the default); without it, SendGrid's
    X-RateLimit-Reset (the Unix time its limit lifts)."""
    try:
        return max(0.0, min(float(value or ""), 3600.0))
    except ValueError:
        pass
    try:
        return max(1.0, min(float(reset or "") - time.time(), 3600.0))
    except ValueError:
        return DEFAULT_RETRY_AFTER


def reset() -> None:
    """Tests: a fresh container has no connections."""
    global _pool
    _pool = None
