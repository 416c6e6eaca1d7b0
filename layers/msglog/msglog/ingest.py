"""Storing provider events: idempotent, order-independent, and nothing lost.

For the events of a request, in batches (`store`):
  1. find each one's delivery (message + recipient): by our message id from the provider's
     custom data, else by the provider message id attached to a recipient;
  2. write the events not stored yet, in the recipient's partition under a key made of the
     event's time and stable id: a retried event is a duplicate (NOLOG_DUPLICATE);
  3. raise each delivery's status to its best event if that takes precedence (SPEC's table,
     enforced by a condition in DynamoDB, so arrival order never matters).
An event whose delivery is not recorded yet is stored all the same (it shows in the event log),
and noted under a pending key; recording the message or attaching the provider message id links
it (`link_pending`). Both sides write first and read second, so one of them always sees the other.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from pynamodb.exceptions import DeleteError, PutError, UpdateError

from msglog import keys, stats
from msglog.addresses import recipient_key
from msglog.clock import iso, now
from msglog.models import (
    Delivery,
    DeliveryEvent,
    Entity,
    ErasedDelivery,
    FirstSeen,
    PendingEvents,
    ProviderMessageLink,
    condition_failed,
    update_if,
)
from msglog.providers import ProviderEvent
from msglog.status import precedence, rank, supersedes
from msglog.tenants import feed_shards

LOG_OK = "LOG_OK"
NOLOG_DUPLICATE = "NOLOG_DUPLICATE"
NOLOG_UNMATCHED = "NOLOG_UNMATCHED"
NOLOG_ERASED = "NOLOG_ERASED"  # for a delivery erased since (msglog.erasure): dropped
FIRST_SEEN_TTL = timedelta(days=30)  # providers stop retrying long before


@dataclass(frozen=True, slots=True)
class Outcome:
    event_id: str
    code: str
    message_id: str | None = None
    event: str | None = None
    subject: str | None = None
    recipient: str | None = None



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


# What storing events reads of their deliveries (_attach, outcomes, statuses, first failures) and of the events
# already stored: a delivery's names, address, fields and status are neither parsed nor sent.
LOOKED_UP = ("pk", "sk", "type", "message_id", "recipient_key", "subject", "channel", "person_id", "org_unit",
             "failed_at", "stats_pk", "stats_sk", "status_precedence", "last_event_at")


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
    actions = [getattr(DeliveryEvent, name).set(getattr(item, name))
               for name in fields if getattr(item, name) is not None]
    update_if(DeliveryEvent, (item.pk, item.sk), actions,
              DeliveryEvent.pk.exists() & DeliveryEvent.message_id.does_not_exist())


def _raise_status(delivery_pk: str, delivery_sk: str, event: str, at: str, event_id: str, reason: str | None) -> None:
    """Set the delivery's status to `event` if it takes precedence (a condition, so order never matters)."""
    new = precedence(event, at, event_id)
    update_if(Delivery, (delivery_pk, delivery_sk),
              [Delivery.status.set(event), Delivery.status_precedence.set(new), Delivery.status_reason.set(reason)],
              Delivery.pk.exists() & (Delivery.status_precedence < new))


def _touch(delivery_pk: str, delivery_sk: str, at: str) -> None:
    """Keep the delivery's last activity time: the latest event's."""
    update_if(Delivery, (delivery_pk, delivery_sk), [Delivery.last_event_at.set(at)],
              Delivery.pk.exists() & (Delivery.last_event_at < at))


def _first_seen(tenant: str, event_id: str) -> str:
    """The time an event without a provider time was first received: the same for every retry."""
    item = FirstSeen(keys.first_seen_pk(tenant, event_id), keys.FIRST_SEEN_SK, at=iso(now()),
                     expires_at=now() + FIRST_SEEN_TTL)
    try:
        item.save(condition=FirstSeen.pk.does_not_exist())
        return item.at
    except PutError as error:
        if not condition_failed(error):
            raise
    return FirstSeen.get(item.pk, item.sk, consistent_read=True).at


@dataclass(slots=True)
class _Arrival:
    """One event of a request on its way into the table."""

    event: ProviderEvent
    rkey: str
    item: DeliveryEvent
    delivery: Delivery | None = None
    duplicate: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return self.item.pk, self.item.sk


def store(tenant: str, events: list[ProviderEvent]) -> list[Outcome]:
    """Store a request's events with batched calls; a retried event changes nothing twice.

    1. the deliveries: BatchGet of the provider-id links (events without our message id), then
       one BatchGet of the deliveries and 2. of the events, to see which are stored already; 3. the
       new ones: BatchWrite (their keys are deterministic, so a racing retry writes the same item);
    4. per delivery, one conditional update with the batch's highest-precedence event and one
       with its latest time; 5. unmatched events are parked per delivery-to-be and linked when
       the message (or its provider id) is recorded — unless that delivery was erased (its
       tombstone says so): those are dropped, so that no late event brings the address back.
    A retry runs steps 4-5 again (idempotent): the attempt it repeats may have failed half way.
    """
    if not events:
        return []
    shards = feed_shards(tenant)
    arrivals = [_arrival(tenant, event, shards) for event in events]
    first: dict[tuple[str, str], _Arrival] = {}
    for arrival in arrivals:
        if arrival.key in first:
            arrival.duplicate = True  # the same event twice in one request
        else:
            first[arrival.key] = arrival
    unique = list(first.values())
    stored = _look_up(tenant, unique)
    erased = _erased(tenant, [a for a in unique if not a.delivery])
    with DeliveryEvent.batch_write() as batch:
        for arrival in unique:
            if arrival.key in erased:
                continue
            if arrival.delivery:
                _attach(arrival.item, tenant, arrival.delivery)
            if arrival.key in stored:
                arrival.duplicate = True
                if arrival.delivery and stored[arrival.key].message_id is None:
                    _attach_stored(arrival.item)
            else:
                batch.save(arrival.item)
    _apply_statuses([a for a in unique if a.delivery])
    _count_failures([a for a in unique if a.delivery and stats.is_failure(a.event.event)])
    linked = _park([a for a in unique if not a.delivery and a.key not in erased], tenant)
    outcomes = []
    for arrival in arrivals:
        source = first[arrival.key]
        if source.key in erased:  # its event and id only: no subject or address
            outcomes.append(Outcome(arrival.event.event_id, NOLOG_ERASED, event=arrival.event.event))
            continue
        message_id = source.delivery.message_id if source.delivery else linked.get(source.item.sk)
        if arrival.duplicate:
            code = NOLOG_DUPLICATE
        else:
            code = LOG_OK if message_id else NOLOG_UNMATCHED
        subject = source.delivery.subject if source.delivery else None
        outcomes.append(Outcome(arrival.event.event_id, code, message_id, arrival.event.event,
                                subject or arrival.event.subject, arrival.event.recipient))
    return outcomes


def _arrival(tenant: str, event: ProviderEvent, shards: int) -> _Arrival:
    rkey = recipient_key(event.recipient, event.channel)
    at = iso(event.timestamp) if event.timestamp else _first_seen(tenant, event.event_id)
    item = DeliveryEvent(
        keys.recipient_pk(tenant, rkey), keys.event_sk(at, event.event_id),
        event_id=event.event_id, provider=event.provider, provider_event=event.provider_event,
        event=event.event, timestamp=at, recipient=event.recipient, recipient_key=rkey,
        reason=event.reason, severity=event.severity, error_code=event.error_code,
        provider_message_id=event.provider_message_id, subject=event.subject, channel=event.channel,
        received_at=iso(now()),
        gsi1pk=keys.event_feed_pk(tenant, keys.shard_of(event.event_id, shards)),
        gsi1sk=keys.event_feed_sk(at, event.event_id),
    )
    return _Arrival(event, rkey, item)


def _look_up(tenant: str, arrivals: list[_Arrival]) -> dict[tuple[str, str], DeliveryEvent]:
    """Set each arrival's delivery (by our message id, else by the provider message id's link), and
    return the arrivals already stored, by key: deliveries and events in the same BatchGetItem calls."""
    message_ids: dict[int, str] = {}
    by_link: dict[tuple[str, str], list[int]] = {}
    for index, arrival in enumerate(arrivals):
        if arrival.event.message_id:
            message_ids[index] = arrival.event.message_id
        elif arrival.event.provider_message_id:
            link = (keys.provider_message_pk(tenant, arrival.event.provider_message_id), keys.link_sk(arrival.rkey))
            by_link.setdefault(link, []).append(index)
    if by_link:
        for link in ProviderMessageLink.batch_get(list(by_link)):
            for index in by_link[(link.pk, link.sk)]:
                message_ids[index] = link.message_id
    wanted = {index: (keys.recipient_pk(tenant, arrivals[index].rkey), keys.delivery_sk(mid))
              for index, mid in message_ids.items()}
    found = {(item.pk, item.sk): item
             for item in Entity.batch_get(list(set(wanted.values())) + [a.key for a in arrivals],
                                          attributes_to_get=list(LOOKED_UP))}
    for index, key in wanted.items():
        delivery = found.get(key)
        arrivals[index].delivery = delivery if isinstance(delivery, Delivery) else None
    return {a.key: found[a.key] for a in arrivals if isinstance(found.get(a.key), DeliveryEvent)}


def _erased(tenant: str, unmatched: list[_Arrival]) -> set[tuple[str, str]]:
    """The keys of the unmatched events whose delivery was erased: one BatchGetItem of tombstones,
    only when a request has unmatched events."""
    by_tombstone: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for arrival in unmatched:
        link = _pending_link(arrival.event, arrival.rkey)
        if link:
            by_tombstone.setdefault((keys.erased_pk(tenant, link), keys.ERASED_SK), []).append(arrival.key)
    if not by_tombstone:
        return set()
    return {key for tombstone in ErasedDelivery.batch_get(list(by_tombstone), consistent_read=True)
            for key in by_tombstone[(tombstone.pk, tombstone.sk)]}


def _apply_statuses(matched: list[_Arrival]) -> None:
    """Per delivery, its best and its latest event of the batch: one update in the usual case
    (the best is news and the latest is later), the separate conditional updates otherwise, none
    when the delivery as read holds them already (a retry, an older or lesser event). The read may
    lag, never lead: status and time only grow, so an update it shows as stale would fail anyway.
    Deliveries are updated in parallel: a 1,000-event SendGrid POST must finish well within
    API Gateway's 30 s."""
    best: dict[tuple[str, str], _Arrival] = {}
    latest: dict[tuple[str, str], str] = {}
    read: dict[tuple[str, str], Delivery] = {}
    for arrival in matched:
        key = (arrival.delivery.pk, arrival.delivery.sk)
        read[key] = arrival.delivery
        latest[key] = max(latest.get(key, ""), arrival.item.timestamp)
        if supersedes(arrival.event.event, arrival.item.timestamp, arrival.event.event_id,
                      _precedence(best[key]) if key in best else None):
            best[key] = arrival
    updates = []
    for key, at in latest.items():
        winner, delivery = best.get(key), read[key]
        if winner and delivery.status_precedence and _precedence(winner) <= delivery.status_precedence:
            winner = None
        later = at if at > (delivery.last_event_at or "") else None
        if winner or later:
            updates.append((key, winner, later))
    if not updates:
        return
    if len(updates) == 1:
        _update_delivery(*updates[0])
        return
    for future in [_workers().submit(_update_delivery, *update) for update in updates]:
        future.result()  # re-raises the first failure, after every update was attempted


def _update_delivery(key: tuple[str, str], winner: _Arrival | None, latest_at: str | None) -> None:
    """`winner`: the batch's best event, if its status is news; `latest_at`: the batch's latest time,
    if it is later than the delivery's last activity (None where they are not)."""
    if winner is not None:
        new = _precedence(winner)
        if latest_at is not None and update_if(
                Delivery, key, [Delivery.status.set(winner.event.event), Delivery.status_precedence.set(new),
                                Delivery.status_reason.set(winner.event.reason), Delivery.last_event_at.set(latest_at)],
                Delivery.pk.exists() & (Delivery.status_precedence < new) & (Delivery.last_event_at < latest_at)):
            return
        _raise_status(*key, winner.event.event, winner.item.timestamp, winner.event.event_id, winner.event.reason)
    if latest_at is not None:
        _touch(*key, latest_at)


def _count_failures(failures: list[_Arrival]) -> None:
    """A delivery's first failure counts in the account statistics (once, however often retried)."""
    first: dict[tuple[str, str], _Arrival] = {}
    for arrival in failures:
        key = (arrival.delivery.pk, arrival.delivery.sk)
        earlier = key not in first or arrival.item.timestamp < first[key].item.timestamp
        if arrival.delivery.failed_at is None and earlier:
            first[key] = arrival
    for future in [_workers().submit(stats.count_failure, a.delivery, a.item.timestamp) for a in first.values()]:
        future.result()


@cache
def _workers() -> ThreadPoolExecutor:
    """Kept for the container's life: its threads (and their connections) are reused."""
    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="ingest")


def _precedence(arrival: _Arrival) -> str:
    return precedence(arrival.event.event, arrival.item.timestamp, arrival.event.event_id)


def _park(unmatched: list[_Arrival], tenant: str) -> dict[str, str]:
    """Note unmatched events under the key their delivery will have; link any whose message was
    recorded meanwhile. Returns {event sort key: message id} of those linked at once."""
    parked: dict[str, list[_Arrival]] = {}
    for arrival in unmatched:
        link = _pending_link(arrival.event, arrival.rkey)
        if link:
            parked.setdefault(link, []).append(arrival)
    for link, group in parked.items():
        event = group[0].event
        PendingEvents(keys.pending_pk(tenant, link), keys.PENDING_SK).update(actions=[
            PendingEvents.recipient_key.set(group[0].rkey),
            PendingEvents.message_id.set(event.message_id),
            PendingEvents.provider_message_id.set(event.provider_message_id),
            PendingEvents.event_sks.add({a.item.sk for a in group}),
        ])
    # The message may have been recorded while we wrote: look again, consistently.
    recorded = [link for link, group in parked.items()
                if _find_delivery(tenant, group[0].event.message_id, group[0].event.provider_message_id,
                                  group[0].rkey, consistent=True)]
    return link_pending(tenant, recorded) if recorded else {}


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
            if rank(item.event):
                _raise_status(delivery.pk, delivery.sk, item.event, item.timestamp, item.event_id, item.reason)
            if stats.is_failure(item.event):
                stats.count_failure(delivery, item.timestamp)
            _touch(delivery.pk, delivery.sk, item.timestamp)
            linked[sk] = delivery.message_id
            done.add(sk)
        if done:
            _forget(pending, done)
    return linked


def _forget(pending: PendingEvents, done: set[str]) -> None:
    try:
        pending.update(actions=[PendingEvents.event_sks.delete(done)])
    except UpdateError as error:
        if not condition_failed(error):
            raise
    try:
        PendingEvents(pending.pk, pending.sk).delete(condition=PendingEvents.event_sks.does_not_exist())
    except DeleteError as error:
        if not condition_failed(error):
            raise
