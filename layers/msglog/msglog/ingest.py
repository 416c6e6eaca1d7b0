"""Storing provider events: idempotent, order-independent, and nothing lost.

For each normalised event:
  1. find its delivery (message + recipient): by our message id from the provider's custom
     data, else by the provider message id attached to a recipient;
  2. put the event item in the recipient's partition, on condition that it is new: a retried
     event is a duplicate (NOLOG_DUPLICATE) and changes nothing;
  3. raise the delivery's status if the event outranks it (SPEC's precedence, enforced by a
     condition in DynamoDB, so arrival order never matters).
An event whose delivery is not recorded yet is stored all the same (it shows in the event log),
and noted under a pending key; recording the message or attaching the provider message id links
it (`link_pending`). Both sides write first and read second, so one of them always sees the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pynamodb.exceptions import DeleteError, PutError, UpdateError

from msglog import keys
from msglog.addresses import recipient_key
from msglog.clock import iso, now
from msglog.models import Delivery, DeliveryEvent, FirstSeen, PendingEvents, ProviderMessageLink
from msglog.providers import ProviderEvent
from msglog.status import precedence, rank
from msglog.tenants import feed_shards

LOG_OK = "LOG_OK"
NOLOG_DUPLICATE = "NOLOG_DUPLICATE"
NOLOG_UNMATCHED = "NOLOG_UNMATCHED"
FIRST_SEEN_TTL = timedelta(days=30)  # providers stop retrying long before


@dataclass(frozen=True, slots=True)
class Outcome:
    event_id: str
    code: str
    message_id: str | None = None


def _conditional_failed(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def _find_delivery(tenant: str, message_id: str | None, provider_message_id: str | None,
                   rkey: str, *, consistent: bool = False) -> Delivery | None:
    if not message_id and provider_message_id:
        try:
            link = ProviderMessageLink.get(keys.provider_message_pk(tenant, provider_message_id),
                                           keys.link_sk(rkey), consistent_read=consistent)
        except ProviderMessageLink.DoesNotExist:
            return None
        message_id = link.message_id
    if not message_id:
        return None
    try:
        return Delivery.get(keys.recipient_pk(tenant, rkey), keys.delivery_sk(message_id), consistent_read=consistent)
    except Delivery.DoesNotExist:
        return None


def _pending_link(event: ProviderEvent, rkey: str) -> str | None:
    if event.message_id:
        return keys.pending_by_message(event.message_id, rkey)
    if event.provider_message_id:
        return keys.pending_by_provider_id(event.provider_message_id, rkey)
    return None


def _attach(item: DeliveryEvent, tenant: str, delivery: Delivery) -> None:
    """Copy what the logs show from the delivery, and put the event on the message's timeline."""
    item.message_id = delivery.message_id
    item.subject = delivery.subject or item.subject
    item.channel = delivery.channel
    item.person_id = delivery.person_id
    item.org_unit = delivery.org_unit
    item.gsi2pk = keys.message_group_pk(tenant, delivery.message_id, delivery.recipient_key)
    item.gsi2sk = item.sk


def _attach_stored(item: DeliveryEvent) -> None:
    """Attach an event stored unmatched by an attempt that failed before it could be linked."""
    fields = ("message_id", "subject", "channel", "person_id", "org_unit", "gsi2pk", "gsi2sk")
    try:
        DeliveryEvent(item.pk, item.sk).update(
            actions=[getattr(DeliveryEvent, name).set(getattr(item, name)) for name in fields
                     if getattr(item, name) is not None],
            condition=DeliveryEvent.pk.exists() & DeliveryEvent.message_id.does_not_exist(),
        )
    except UpdateError as error:
        if not _conditional_failed(error):
            raise


def apply_status(delivery_pk: str, delivery_sk: str, event: str, at: str, event_id: str, reason: str | None) -> None:
    """Raise the delivery's status to `event` if it takes precedence; keep the last activity time."""
    if rank(event):
        new = precedence(event, at, event_id)
        try:
            Delivery(delivery_pk, delivery_sk).update(
                actions=[Delivery.status.set(event), Delivery.status_precedence.set(new),
                         Delivery.status_reason.set(reason)],
                condition=Delivery.pk.exists() & (Delivery.status_precedence < new),
            )
        except UpdateError as error:
            if not _conditional_failed(error):
                raise
    try:
        Delivery(delivery_pk, delivery_sk).update(
            actions=[Delivery.last_event_at.set(at)],
            condition=Delivery.pk.exists() & (Delivery.last_event_at < at),
        )
    except UpdateError as error:
        if not _conditional_failed(error):
            raise


def store(tenant: str, events: list[ProviderEvent]) -> list[Outcome]:
    return [_store_one(tenant, event) for event in events]


def _first_seen(tenant: str, event_id: str) -> str:
    """The time an event without a provider time was first received: the same for every retry."""
    item = FirstSeen(keys.first_seen_pk(tenant, event_id), keys.FIRST_SEEN_SK, at=iso(now()),
                     expires_at=now() + FIRST_SEEN_TTL)
    try:
        item.save(condition=FirstSeen.pk.does_not_exist())
        return item.at
    except PutError as error:
        if not _conditional_failed(error):
            raise
    return FirstSeen.get(item.pk, item.sk, consistent_read=True).at


def _store_one(tenant: str, event: ProviderEvent) -> Outcome:
    rkey = recipient_key(event.recipient, event.channel)
    at = iso(event.timestamp) if event.timestamp else _first_seen(tenant, event.event_id)
    item = DeliveryEvent(
        keys.recipient_pk(tenant, rkey), keys.event_sk(at, event.event_id),
        event_id=event.event_id, provider=event.provider, provider_event=event.provider_event,
        event=event.event, timestamp=at, recipient=event.recipient, recipient_key=rkey,
        reason=event.reason, severity=event.severity, error_code=event.error_code,
        provider_message_id=event.provider_message_id, subject=event.subject, channel=event.channel,
        received_at=iso(now()),
        gsi1pk=keys.event_feed_pk(tenant, keys.shard_of(event.event_id, feed_shards(tenant))),
        gsi1sk=keys.event_feed_sk(at, event.event_id),
    )
    delivery = _find_delivery(tenant, event.message_id, event.provider_message_id, rkey)
    if delivery:
        _attach(item, tenant, delivery)
    try:
        item.save(condition=DeliveryEvent.pk.does_not_exist())
        duplicate = False
    except PutError as error:
        if not _conditional_failed(error):
            raise
        duplicate = True
    # A retry goes through the steps after the put again (each is idempotent): the first attempt
    # may have failed between the put and them, and the provider retries only what we refused.
    code = NOLOG_DUPLICATE if duplicate else LOG_OK
    if delivery:
        if duplicate:
            _attach_stored(item)
        apply_status(delivery.pk, delivery.sk, event.event, at, event.event_id, event.reason)
        return Outcome(event.event_id, code, delivery.message_id)
    link = _pending_link(event, rkey)
    if link is None:
        return Outcome(event.event_id, code if duplicate else NOLOG_UNMATCHED)
    PendingEvents(keys.pending_pk(tenant, link), keys.PENDING_SK).update(actions=[
        PendingEvents.recipient_key.set(rkey),
        PendingEvents.message_id.set(event.message_id),
        PendingEvents.provider_message_id.set(event.provider_message_id),
        PendingEvents.event_sks.add({item.sk}),
    ])
    # The message may have been recorded while we wrote: look again, consistently.
    if _find_delivery(tenant, event.message_id, event.provider_message_id, rkey, consistent=True):
        linked = link_pending(tenant, [link])
        if item.sk in linked:
            return Outcome(event.event_id, code, linked[item.sk])
    return Outcome(event.event_id, code if duplicate else NOLOG_UNMATCHED)


def link_pending(tenant: str, links: list[str]) -> dict[str, str]:
    """Attach the events parked under `links` to their now recorded deliveries.

    Returns {event sort key: message id} of what was linked. Safe to run twice at once.
    """
    linked: dict[str, str] = {}
    wanted = [(keys.pending_pk(tenant, link), keys.PENDING_SK) for link in links]
    for pending in PendingEvents.batch_get(wanted, consistent_read=True):
        rkey = pending.recipient_key
        done: set[str] = set()
        for sk in sorted(pending.event_sks or ()):
            try:
                item = DeliveryEvent.get(keys.recipient_pk(tenant, rkey), sk, consistent_read=True)
            except DeliveryEvent.DoesNotExist:
                done.add(sk)
                continue
            delivery = _find_delivery(tenant, pending.message_id, pending.provider_message_id, rkey, consistent=True)
            if delivery is None:
                continue
            _attach(item, tenant, delivery)
            item.save()
            apply_status(delivery.pk, delivery.sk, item.event, item.timestamp, item.event_id, item.reason)
            linked[sk] = delivery.message_id
            done.add(sk)
        if done:
            _forget(pending, done)
    return linked


def _forget(pending: PendingEvents, done: set[str]) -> None:
    try:
        pending.update(actions=[PendingEvents.event_sks.delete(done)])
    except UpdateError as error:
        if not _conditional_failed(error):
            raise
    try:
        PendingEvents(pending.pk, pending.sk).delete(condition=PendingEvents.event_sks.does_not_exist())
    except DeleteError as error:
        if not _conditional_failed(error):
            raise
