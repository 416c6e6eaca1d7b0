"""The suppression list ("blacklisted recipients"), per tenant.

Hard bounces, complaints and invalid addresses are added by ingestion; an administrator looks
one up, adds one and resets (removes) one. A reset is remembered, so a provider's retry of the
old bounce does not bring the address back — only a later event does. Every change leaves an
audit entry: who, when, what.
Items are write-sharded by address (a bad list can bounce hundreds of addresses a second), so a
lookup is one GetItem and the list (msglog.views) merges the shards in address order.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import PutError

from msglog import audit, keys
from msglog.addresses import key_of_any
from msglog.auth import Caller
from msglog.clock import iso, now
from msglog.errors import NotFound, invalid
from msglog.models import Suppression, condition_failed
from msglog.providers import ProviderEvent
from msglog.tenants import feed_shards

_INVALID_EVENTS = {"postmark:Bounce:BadEmailAddress", "twilio:undelivered:21211", "twilio:failed:21211",
                   "twilio:undelivered:21614", "twilio:failed:21614"}


def _key(address: str) -> str:
    try:
        return key_of_any(address)
    except ValueError as problem:
        raise invalid("address", str(problem)) from None


def item_key(tenant: str, rkey: str) -> tuple[str, str]:
    return keys.suppression_pk(tenant, keys.shard_of(rkey, feed_shards(tenant))), rkey


PROVIDER_ACTOR = "provider:"
PROVIDER_SOURCE = "provider"  # the provider holds the address on its own list and would not send to it


def show(item: Suppression) -> dict[str, Any]:
    """`provider`: the provider whose event suppressed the address (None when an administrator did)."""
    by_provider = item.created_by.startswith(PROVIDER_ACTOR)
    return {"address": item.address, "reason": item.reason, "detail": item.detail, "source": item.source,
            "provider": item.created_by.removeprefix(PROVIDER_ACTOR) if by_provider else None,
            "created_at": item.created_at, "created_by": item.created_by}


def reason_for(event: ProviderEvent) -> str | None:
    """Why an event suppresses its recipient, if it does."""
    names = {f"{event.provider}:{event.provider_event}", f"{event.provider}:{event.provider_event}:{event.error_code}"}
    if event.held:
        return event.held
    if names & _INVALID_EVENTS:
        return "invalid"
    return {"bounced": "bounce", "complained": "complaint"}.get(event.event)


def add_from_events(tenant: str, events: list[ProviderEvent]) -> int:
    """Suppress the recipients of hard bounces, complaints, invalid addresses and of the events where
    the provider would not send because it holds the address on its own list (first reason kept)."""
    added = 0
    for event in events:
        reason = reason_for(event)
        at = iso(event.timestamp) if event.timestamp else iso(now())
        source = PROVIDER_SOURCE if event.held else event.event_id
        if reason and _add(tenant, event.recipient, reason, detail=event.reason, source=source,
                           actor=f"{PROVIDER_ACTOR}{event.provider}", unless_reset_after=at, event_id=event.event_id):
            added += 1
    return added


def _add(tenant: str, address: str, reason: str, *, detail: str | None, source: str, actor: str,
         unless_reset_after: str | None = None, event_id: str | None = None) -> bool:
    """Suppress `address`; with `unless_reset_after` (an automatic add) only if it is not
    suppressed yet, or was reset before that time."""
    rkey = _key(address)
    item = Suppression(*item_key(tenant, rkey), address=address.strip(), reason=reason, detail=detail,
                       source=source, created_at=iso(now()), created_by=actor)
    condition = None
    if unless_reset_after:
        condition = Suppression.pk.does_not_exist() | (Suppression.reset_at < unless_reset_after)
    try:
        item.save(condition=condition)
    except PutError as error:
        if condition_failed(error):
            return False
        raise
    audit.record(tenant, actor=actor, action="suppression.added", entity=f"suppression:{rkey}",
                 details={"reason": reason, "source": source, **({"event_id": event_id} if event_id else {})})
    return True


def add_held(tenant: str, address: str, provider: str, reason: str) -> bool:
    """Put an address the provider says it holds on our list too (GET …?refresh=true), unless it is there."""
    return _add(tenant, address, reason, detail=f"on {provider}'s suppression list", source=PROVIDER_SOURCE,
                actor=f"{PROVIDER_ACTOR}{provider}", unless_reset_after=iso(now()))


def _active(tenant: str, address: str) -> Suppression:
    try:
        item = Suppression.get(*item_key(tenant, _key(address)))
    except Suppression.DoesNotExist:
        item = None
    if item is None or item.reset_at:
        raise NotFound("this address is not suppressed")
    return item


def get(caller: Caller, address: str) -> dict[str, Any]:
    caller.require("suppressions:read", "suppressions:write")
    return show(_active(caller.tenant, address))


def put(caller: Caller, address: str, reason: str, note: str | None) -> dict[str, Any]:
    caller.require("suppressions:write")
    _add(caller.tenant, address, reason, detail=note, source="admin", actor=caller.sub)
    return get(caller, address)


def active(caller: Caller, address: str) -> Suppression:
    """The address's entry on the list (404 when it is not suppressed), for a reset."""
    caller.require("suppressions:write")
    return _active(caller.tenant, address)


def reset(caller: Caller, address: str, providers: dict[str, str] | None = None) -> None:
    """Take the address off the list; `providers`: what each provider answered when asked to do the same
    (msglog.provider_lists), kept in the audit entry."""
    existing = active(caller, address)
    existing.update(actions=[Suppression.reset_at.set(iso(now())), Suppression.reset_by.set(caller.sub)])
    audit.record(caller.tenant, actor=caller.sub, action="suppression.reset", entity=f"suppression:{existing.sk}",
                 details={"reason": existing.reason, **({"providers": ",".join(f"{name}:{outcome}" for name, outcome
                                                                              in providers.items())}
                                                        if providers else {})})
