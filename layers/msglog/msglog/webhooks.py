"""A provider webhook, from raw request to stored events.

Order matters: read the envelope (400), find the tenant's credentials and verify (401, the same
answer for an unknown tenant and a bad signature), normalise every event (400) — all before
anything is written, so bad input never leaves half a record.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from typing import Any

from aws_lambda_powertools import Logger

from msglog import arrivals, ingest, ingestion_log, parking, providers, suppressions, tenants
from msglog.auth import is_tenant_id
from msglog.config import config
from msglog.errors import (
    BadRequest,
    DomainError,
    Forbidden,
    NotAcceptable,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from msglog.providers import UNVERIFIED, Malformed, ProviderEvent, RequestKey, WebhookRequest
from msglog.telemetry import metrics

BAD_SIGNATURE = UNVERIFIED
NOLOG_REPLAYED_TOKEN = "NOLOG_REPLAYED_TOKEN"
NOLOG_MALFORMED = "NOLOG_MALFORMED"
NOLOG_BAD_SIGNATURE = "NOLOG_BAD_SIGNATURE"
PARKED = "PARKED"
logger = Logger(child=True)
REFUSALS_LOGGED_PER_MINUTE = 10
_refusals: dict[tuple[str, str], tuple[float, int]] = {}  # (tenant, provider) -> (minute started, refusals)


class ReplayedToken(Unauthorized):
    """What a request key signed, seen again with other content: never accepted, however often sent."""


# The status after which each provider stops retrying (docs/providers.md): a request that can never
# be accepted gets it, not a 4xx the provider would send again for hours. SendGrid, Twilio and SNS
# have none to give: they keep the 4xx (SNS and Twilio do not retry a 4xx; SendGrid does, 24 h).
STOP_RETRYING = {"mailgun": NotAcceptable, "postmark": Forbidden}
# the same request fails the same way; a replayed token too (a bad signature stays 401: a key may be rotating)
_NEVER_ACCEPTED = (BadRequest, PayloadTooLarge, UnsupportedMediaType, ReplayedToken)


def answer_for(provider: str, error: BaseException) -> BaseException:
    """`error` as the provider understands it: a permanent refusal in the status that stops its retries."""
    stop = STOP_RETRYING.get(provider)
    if stop and isinstance(error, _NEVER_ACCEPTED):
        return stop(error.detail, error.errors, error.code)
    return error


def receive(provider: str, tenant: str, request: WebhookRequest,
            request_id: str | None = None) -> tuple[dict[str, Any], int]:
    """Verify, then store — or park, if storing fails (answer 202). Returns (answer, status)."""
    module = providers.module(provider)
    if module is None:
        raise NotFound(f"no webhook for provider {provider!r}; one of: {', '.join(providers.PROVIDERS)}")
    try:
        payload = module.read(request)
        credentials = tenants.credentials(tenant, provider) if is_tenant_id(tenant) else None
        if not credentials:
            raise Unauthorized(BAD_SIGNATURE)
        module.verify(payload, credentials, request=request, max_age_seconds=config().webhook_max_age_seconds)
        items = module.events(payload)
    except DomainError as refusal:
        _log_refusal(tenant, provider, request_id, refusal)
        raise
    try:
        answer = process(tenant, provider, module, payload, items, request_id), 200
    except DomainError as refusal:
        _log_refusal(tenant, provider, request_id, refusal)
        raise
    except Exception as failure:
        if not parking.transient(failure):
            raise  # a 500: the provider retries, and a replay would fail the same way
        logger.exception("storing failed: parking the request")
        key = parking.park(tenant, provider, request, request_id)  # if this fails too: a 5xx, the provider retries
        answer = {"received": len(items), "parked": key.rsplit("/", 1)[-1], "outcomes": {PARKED: len(items)}}, 202
    arrivals.arrived(tenant, provider, len(items))  # acknowledged: the ingestion-health signal (best effort)
    return answer


def process(tenant: str, provider: str, module: Any, payload: Any, items: list[Any],
            request_id: str | None) -> dict[str, Any]:
    """Store a verified request's events (also what `replay` does with a parked request).

    A request keyed by what its provider signs (`request_key`) has its ingestion-log row written first, on
    condition it is not there: that one write is also the replay guard, so what was signed, seen again
    with other content, is refused before anything of it is written; seen again with the same content (a
    retry: the first attempt may have failed after its row), it goes on to store, and gets a row of its
    own, as other requests do: last, as their outcomes stand.
    """
    events = ingest.identify(tenant, [item for item in items if isinstance(item, ProviderEvent)])  # 400 first
    malformed = [item for item in items if isinstance(item, Malformed)]
    listed = ingestion_log.MAX_MALFORMED_KEPT  # the items the log lists: only theirs are kept whole
    malformed = [_kept(tenant, provider, item) for item in malformed[:listed]] + malformed[listed:]
    staged = ingest.stage(tenant, events)
    keyed = getattr(module, "request_key", None)
    key: RequestKey | None = keyed(payload) if keyed else None
    planned_outcomes = staged.outcomes()
    planned = _counted(planned_outcomes, malformed, None)
    if key and (claim := ingestion_log.claim(tenant, provider, request_id, key, planned, planned_outcomes,
                                             malformed)) is ingestion_log.Claim.OTHER_CONTENT:
        raise ReplayedToken("this webhook token was already used for other content", code=NOLOG_REPLAYED_TOKEN)
    outcomes = staged.write()
    suppressions.add_from_events(tenant, events)
    confirm = getattr(module, "confirm", None)
    control = confirm(payload) if confirm else None  # e.g. an SNS subscription, confirmed once verified
    for item in malformed:  # which item and which fields, never its content
        logger.warning(
            "malformed event in batch", extra={"index": item.index, "fields": [e.field for e in item.errors]}
        )
    counts = _counted(outcomes, malformed, control)
    if key is None or claim is ingestion_log.Claim.RETRY:  # a retry: a row of its own, as any request
        ingestion_log.record(tenant, provider, request_id, counts, outcomes, malformed=malformed)
    elif counts != planned:  # writing changed what the row says (an event linked at once, a confirmation)
        ingestion_log.record(tenant, provider, request_id, counts, outcomes, malformed=malformed, key=key)
    return {
        "received": len(items),
        "outcomes": dict(counts),
        "events": [{"event_id": o.event_id, "outcome": o.code, "message_id": o.message_id} for o in outcomes],
        "malformed": [{"index": m.index, "errors": [{"field": e.field, "message": e.message} for e in m.errors]}
                      for m in malformed],
    }


def _counted(outcomes: list[ingestion_log.Outcome], malformed: list[Malformed], control: str | None) -> Counter[str]:
    return Counter([o.code for o in outcomes] + [NOLOG_MALFORMED] * len(malformed) + ([control] if control else []))


def _kept(tenant: str, provider: str, item: Malformed) -> Malformed:
    """A malformed item longer than the ingestion log holds of it is kept whole (not in privacy mode,
    where the log keeps no raw items either)."""
    if len(item.raw) <= ingestion_log.MAX_RAW_CHARS or tenants.settings(tenant).privacy_mode:
        return item
    return replace(item, raw_key=parking.keep(tenant, provider, item.raw))


def replay(limit: int = 100, time_left: Any = None) -> dict[str, Any]:
    """Store parked requests, at most `limit`, while `time_left()` (ms) allows. Each stored one is
    removed; one refused for good is moved to refused/; one still failing stays for the next run —
    and the run goes on past it, page by page."""
    replayed = refused = failed = 0
    page: str | None = None
    while replayed + refused < limit:
        keys_, page = parking.parked(page)
        for key in keys_:
            if replayed + refused >= limit or (time_left and time_left() < 10_000):
                return {"replayed": replayed, "refused": refused, "failed": failed}
            try:
                parked = parking.take(key)
                module = providers.module(parked["provider"])
                if module is None:  # a provider the service no longer has: never storable
                    raise NotFound(f"no provider {parked['provider']!r}")
                payload = module.read(parked["request"])
                process(parked["tenant"], parked["provider"], module, payload, module.events(payload),
                        parked["request_id"])
            except DomainError as refusal:  # e.g. a replayed token: it will never be stored
                logger.warning("parked request refused", extra={"key": key, "status": refusal.status,
                                                                "code": refusal.code})
                parking.refuse(key)
                refused += 1
                continue
            except Exception:
                logger.exception("parked request still failing", extra={"key": key})
                failed += 1
                continue
            parking.done(key)
            replayed += 1
        if not page:
            break
    return {"replayed": replayed, "refused": refused, "failed": failed}


def _log_refusal(tenant: str, provider: str, request_id: str | None, refusal: DomainError) -> None:
    """A refused request goes in the tenant's ingestion log — if there is such a tenant, and at most
    REFUSALS_LOGGED_PER_MINUTE a minute per tenant and provider in this container: anyone can post
    unsigned requests, and a flood of them must not turn into a flood of writes (the rest are counted)."""
    if not is_tenant_id(tenant) or not tenants.credentials(tenant, provider):
        return
    code = refusal.code or (NOLOG_BAD_SIGNATURE if refusal.status == 401 else NOLOG_MALFORMED)
    if code == NOLOG_BAD_SIGNATURE:
        arrivals.refused(tenant, provider)  # ingestion health: a key that is wrong from the start shows
    started, logged = _refusals.get((tenant, provider), (0.0, 0))
    if time.monotonic() - started >= 60:
        started, logged = time.monotonic(), 0
    _refusals[(tenant, provider)] = (started, logged + 1)
    if logged >= REFUSALS_LOGGED_PER_MINUTE:
        metrics.add_metric(name="RefusalsNotLogged", unit="Count", value=1)
        return
    ingestion_log.record(tenant, provider, request_id, {code: 1}, detail=refusal.detail)


def reset() -> None:
    """Tests: a fresh container has counted no refusals."""
    _refusals.clear()
