"""Storing provider events: idempotent, order-independent, and nothing lost.

For the events of a request, in batches (`store`):
  1. find each one's delivery (message + recipient): by our message id from the provider's
     custom data, else by the provider message id attached to a recipient;
  2. write the events not stored yet, in the recipient's partition under a key made of the
     event's time and stable id: a retried event is a duplicate (NOLOG_DUPLICATE);
  3. raise each delivery's status to its best event if that takes precedence (SPEC's table), and
     its last activity to the latest: a request that changes a few deliveries updates them with a
     condition in DynamoDB, a larger one sends the changes to the status writer (msglog.status_writer),
     which writes them in batches. Either way arrival order never matters.
An event whose delivery is not recorded yet is stored all the same (it shows in the event log),
and noted under a pending key; recording the message or attaching the provider message id links
it (`link_pending`). Both sides write first and read second, so one of them always sees the other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from aws_lambda_powertools import Logger
from pynamodb.exceptions import DeleteError, UpdateError

from msglog import fanout, ingestion_log, keys, policy, status_writer
from msglog.addresses import recipient_key
from msglog.clock import iso, now
from msglog.config import config
from msglog.errors import BadRequest, FieldError
from msglog.ingestion_log import Outcome
from msglog.models import (
    Delivery,
    DeliveryEvent,
    Entity,
    ErasedDelivery,
    FirstSeen,
    PendingEvents,
    ProviderMessageLink,
    condition_failed,
    put_if_absent,
    set_or_null,
    update_if,
)
from msglog.precedence import precedence, rank
from msglog.providers import ProviderEvent
from msglog.tenants import feed_shards, settings

logger = Logger(child=True)
LOG_OK = "LOG_OK"
LOG_LINKED = "LOG_LINKED"  # stored unmatched (NOLOG_UNMATCHED), linked later when its message was recorded
NOLOG_DUPLICATE = "NOLOG_DUPLICATE"
NOLOG_UNMATCHED = "NOLOG_UNMATCHED"
NOLOG_ERASED = "NOLOG_ERASED"  # for a delivery erased since (msglog.erasure): dropped
RECIPIENT_FIELD = {"twilio": "To"}  # what each provider calls the recipient, where it may leave it out
FIRST_SEEN_TTL = timedelta(days=30)  # providers stop retrying long before


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


def identify(tenant: str, events: list[ProviderEvent]) -> list[ProviderEvent]:
    """Events that name no recipient (a Twilio callback without `To`) get the one their provider
    message id was recorded for, else, when the callback names our message (`?message_id=`, its provider
    id not attached yet), that message's only recipient; one that finds none (or more than one) is a 400
    naming the field."""
    if all(event.recipient for event in events):
        return events
    identified, unknown = [], []
    for event in events:
        found = event.recipient or _only_recipient(tenant, event)
        if not found:
            unknown.append(event)
        identified.append(replace(event, recipient=found) if found else event)
    if unknown:
        raise BadRequest(f"the {unknown[0].provider} event names no recipient", [FieldError(
            RECIPIENT_FIELD.get(unknown[0].provider, "recipient"),
            "is required when the provider message id matches no recorded recipient")])
    return identified


def _only_recipient(tenant: str, event: ProviderEvent) -> str | None:
    """The one recipient the event's provider message id, or else its message, was recorded with."""
    if event.provider_message_id:
        links = list(ProviderMessageLink.query(
            keys.provider_message_pk(tenant, event.provider_message_id),
            ProviderMessageLink.sk.startswith(keys.link_sk("")), limit=2, consistent_read=True))
        if links:
            return links[0].recipient_key if len(links) == 1 else None
    if not event.message_id:
        return None
    found: list[str] = []
    for shard in range(keys.GROUP_SHARDS):  # the message's recipients index (gsi6, keys only), 2 a shard at most
        found += [row.gsi6sk.removeprefix(keys.GROUP_DELIVERY_PREFIX) for row in Delivery.gsi6.query(
            keys.message_group_shard_pk(tenant, event.message_id, shard),
            Delivery.gsi6sk.startswith(keys.GROUP_DELIVERY_PREFIX), limit=2)]
        if len(found) > 1:
            return None
    return found[0] if found else None


def _pending_link(event: ProviderEvent, rkey: str) -> str | None:
    if event.message_id:
        return keys.pending_by_message(event.message_id, rkey)
    if event.provider_message_id:
        return keys.pending_by_provider_id(event.provider_message_id, rkey)
    return None


# What storing events reads of their deliveries (_attach, outcomes, statuses) and of the events
# already stored: a delivery's names, address, fields and status are neither parsed nor sent.
LOOKED_UP = ("pk", "sk", "type", "message_id", "recipient_key", "subject", "channel", "person_id", "org_unit",
             "stats_pk", "stats_sk", "status_precedence", "last_event_at")


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


def _first_seen(tenant: str, event_id: str) -> str:
    """The time an event without a provider time was first received: the same for every retry."""
    item = FirstSeen(keys.first_seen_pk(tenant, event_id), keys.FIRST_SEEN_SK, at=iso(now()),
                     expires_at=now() + FIRST_SEEN_TTL)
    earlier = put_if_absent(item)
    return (earlier or item).at


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


def store(tenant: str, events: list[ProviderEvent], *, statuses_now: bool = False) -> list[Outcome]:
    """Store a request's events with batched calls; a retried event changes nothing twice (`stage`, then
    `Staged.write`). `statuses_now`: the deliveries' statuses are written before this returns, not by the
    status writer a second later (a person waits on the answer: msglog.refresh)."""
    return stage(tenant, events).write(statuses_now=statuses_now)


@dataclass(slots=True)
class Staged:
    """A request's events read and decided (`stage`), nothing of them written yet: the outcomes `write`
    will give are known before it runs (msglog.webhooks writes them first, in the ingestion-log item that
    is also the request's replay guard)."""

    tenant: str
    arrivals: list[_Arrival]
    first: dict[tuple[str, str], _Arrival]
    read_at: str
    screened: dict[tuple[str, str], str]
    erased: set[tuple[str, str]]
    kept: list[_Arrival]
    new: list[DeliveryEvent]
    unattached: list[DeliveryEvent]  # stored unmatched by an earlier attempt, matched now

    def outcomes(self, linked: dict[str, str] | None = None) -> list[Outcome]:
        """Each event's outcome; `linked`: {event sort key: message id} of unmatched events linked on writing."""
        return [_outcome(arrival, self.first[arrival.key], self.screened, self.erased, linked or {})
                for arrival in self.arrivals]

    def write(self, *, statuses_now: bool = False) -> list[Outcome]:
        """Steps 3-5 of `stage`'s; the outcomes as written (an unmatched event whose message was recorded
        meanwhile is linked at once: LOG_OK, where `outcomes()` said NOLOG_UNMATCHED)."""
        matched = [a for a in self.kept if a.delivery]
        fanout.save_all(DeliveryEvent, self.new)
        for item in self.unattached:
            _attach_stored(item)
        _raise_statuses(self.tenant, matched, self.read_at, statuses_now)
        linked = _park([a for a in self.kept if not a.delivery], self.tenant)
        return self.outcomes(linked)


def stage(tenant: str, events: list[ProviderEvent]) -> Staged:
    """Read what storing a request's events needs, and decide; `Staged.write` then writes it.

    1. the deliveries: BatchGet of the provider-id links (events without our message id), then
       one BatchGet of the deliveries and 2. of the events, to see which are stored already; 3. the
       new ones: BatchWrite (their keys are deterministic, so a racing retry writes the same item);
    4. per delivery, the batch's highest-precedence event and its latest time: conditional updates of
       the deliveries, or for more than `status_direct_max` of them, the status writer (msglog.status_writer);
    5. unmatched events are parked per delivery-to-be and linked when
       the message (or its provider id) is recorded — unless that delivery was erased (its
       tombstone says so): those are dropped, so that no late event brings the address back.
    A retry runs steps 4-5 again (idempotent): the attempt it repeats may have failed half way.
    Events the tenant's logging policy names (msglog.policy) are none of this: not stored, and their
    outcome (NOLOG_NO_RECIPS, NOLOG_ALL_IGNORED, NOLOG_CONTENT) carries no recipient.
    """
    if not events:
        return Staged(tenant, [], {}, "", {}, set(), [], [], [])
    shards = feed_shards(tenant)
    arrivals = [_arrival(tenant, event, shards) for event in events]
    first = _first_of_each(arrivals)
    read_at = iso(now())  # the deliveries are read from here on (the status writer needs to know: erasure)
    stored = _look_up(tenant, list(first.values()))
    screened, erased, kept = _left_out(tenant, list(first.values()))
    new, unattached = _new_items(tenant, kept, stored)
    return Staged(tenant, arrivals, first, read_at, screened, erased, kept, new, unattached)


def _first_of_each(arrivals: list[_Arrival]) -> dict[tuple[str, str], _Arrival]:
    """The first arrival of each event key; the others are marked duplicates (the same event twice in
    one request)."""
    first: dict[tuple[str, str], _Arrival] = {}
    for arrival in arrivals:
        if arrival.key in first:
            arrival.duplicate = True
        else:
            first[arrival.key] = arrival
    return first


def _left_out(tenant: str, unique: list[_Arrival]) -> tuple[dict[tuple[str, str], str], set[tuple[str, str]],
                                                            list[_Arrival]]:
    """The keys of the events the tenant's logging policy leaves out (and why), of those whose delivery
    was erased; and the events kept. Runs once each arrival's delivery is known (a policy may name the
    delivery's subject)."""
    screened = _screened(tenant, unique)  # the logging policy's: not stored at all
    unique = [a for a in unique if a.key not in screened]
    erased = _erased(tenant, [a for a in unique if not a.delivery])
    return screened, erased, [a for a in unique if a.key not in erased]  # the erased are all unmatched


def _new_items(tenant: str, arrivals: list[_Arrival],
               stored: dict[tuple[str, str], DeliveryEvent]) -> tuple[list[DeliveryEvent], list[DeliveryEvent]]:
    """The events to write: each attached to its delivery if it has one; those stored already are marked
    duplicates, and those of them stored unmatched are returned apart (they get their message id now)."""
    new, unattached = [], []
    for arrival in arrivals:
        if arrival.delivery:
            _attach(arrival.item, tenant, arrival.delivery)
        if arrival.key in stored:
            arrival.duplicate = True
            if arrival.delivery and stored[arrival.key].message_id is None:
                unattached.append(arrival.item)
        else:
            new.append(arrival.item)
    return new, unattached


def _outcome(arrival: _Arrival, source: _Arrival, screened: dict[tuple[str, str], str],
             erased: set[tuple[str, str]], linked: dict[str, str]) -> Outcome:
    """The ingestion log's outcome of one event of the request (`source`: the first with its key)."""
    if source.key in screened:  # why, the event and the subject: not the recipient (the policy's point)
        return Outcome(arrival.event.event_id, screened[source.key],
                       source.delivery.message_id if source.delivery else arrival.event.message_id,
                       arrival.event.event, _subject(source))
    if source.key in erased:  # its event and id only: no subject or address
        return Outcome(arrival.event.event_id, NOLOG_ERASED, event=arrival.event.event)
    message_id = source.delivery.message_id if source.delivery else linked.get(source.item.sk)
    code = NOLOG_DUPLICATE if arrival.duplicate else LOG_OK if message_id else NOLOG_UNMATCHED
    return Outcome(arrival.event.event_id, code, message_id, arrival.event.event, _subject(source),
                   arrival.event.recipient)


def _subject(arrival: _Arrival) -> str | None:
    return (arrival.delivery.subject if arrival.delivery else None) or arrival.event.subject


def _screened(tenant: str, arrivals: list[_Arrival]) -> dict[tuple[str, str], str]:
    """The arrivals the tenant's logging policy leaves out, by key: why (NOLOG_NO_RECIPS, …)."""
    rules = policy.of(settings(tenant).logging_policy)
    if rules is None:
        return {}
    why = {a.key: rules.screen(a.event.recipient, a.event.channel, _subject(a)) for a in arrivals}
    return {key: code for key, code in why.items() if code}


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
    for link in fanout.get_all(ProviderMessageLink, list(by_link)):
        for index in by_link[(link.pk, link.sk)]:
            message_ids[index] = link.message_id
    wanted = {index: (keys.recipient_pk(tenant, arrivals[index].rkey), keys.delivery_sk(mid))
              for index, mid in message_ids.items()}
    found = {(item.pk, item.sk): item
             for item in fanout.get_all(Entity, list(set(wanted.values())) + [a.key for a in arrivals],
                                        attributes=LOOKED_UP)}
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


def _raise_statuses(tenant: str, matched: list[_Arrival], read_at: str, now: bool = False) -> None:
    """Per delivery, the request's best event and its latest time. A few deliveries: conditional
    updates, 8 at a time (one round trip), none for what the delivery as read holds already (a retry,
    an older or lesser event: the read may lag, never lead). More: the status writer, which writes
    them in batches, 25 to a request (msglog.status_writer; a second or so later) — unless `now` (a
    refresh: the updates, however many). A retry does it again: the attempt it repeats may have failed half
    way, and neither path changes anything twice."""
    changes: dict[tuple[str, str], tuple[str, status_writer.Change]] = {}
    read: dict[tuple[str, str], Delivery] = {}
    for arrival in matched:
        if arrival.delivery is None:  # matched: each has its delivery
            continue
        change = change_of(arrival.delivery, arrival.item)
        key = (change.pk, change.message_id)
        changes[key] = (arrival.rkey, status_writer.merged(changes[key][1], change) if key in changes else change)
        read[key] = arrival.delivery
    if not now and len(changes) > config().status_direct_max:
        status_writer.send(tenant, list(changes.values()), read_at)
        return
    fanout.each(lambda update: update_delivery(*update),
                [(read[key], change) for key, (_, change) in changes.items() if _is_news(read[key], change)])
    # Their counts are the status writer's (msglog.counts): also what a retry of this request raises again.
    recounts = [
        status_writer.recount(tenant, read[key].recipient_key, read[key].message_id)
        for key, (_, change) in changes.items()
        if change.precedence and change.precedence >= (read[key].status_precedence or "")
    ]
    if recounts:
        status_writer.send(tenant, recounts, read_at)


def _is_news(delivery: Delivery, change: status_writer.Change) -> bool:
    return (change.precedence or "") > (delivery.status_precedence or "") or change.at > (delivery.last_event_at or "")


def update_delivery(delivery: Delivery, change: status_writer.Change) -> None:
    """The delivery's status and last activity, each only if `change` takes precedence over the delivery
    as read (and, by condition, as it is): in one update when both do (the usual case), else in the
    one or two that still apply."""
    key = (delivery.pk, delivery.sk)
    news = change.precedence if (change.precedence or "") > (delivery.status_precedence or "") else None
    later = change.at if change.at > (delivery.last_event_at or "") else None
    if news:
        status = [set_or_null(Delivery.status, change.status), Delivery.status_precedence.set(news),
                  set_or_null(Delivery.status_reason, change.reason)]
        if later and update_if(Delivery, key, [*status, Delivery.last_event_at.set(later)],
                               Delivery.pk.exists() & (Delivery.status_precedence < news)
                               & (Delivery.last_event_at < later)):
            return
        update_if(Delivery, key, status, Delivery.pk.exists() & (Delivery.status_precedence < news))
    if later:
        update_if(Delivery, key, [Delivery.last_event_at.set(later)],
                  Delivery.pk.exists() & (Delivery.last_event_at < later))


def change_of(delivery: Delivery, item: DeliveryEvent) -> status_writer.Change:
    """What the event `item` says of `delivery`: its time, and its status if it ranks."""
    if not rank(item.event):
        return status_writer.Change(delivery.pk, delivery.message_id, item.timestamp)
    return status_writer.Change(delivery.pk, delivery.message_id, item.timestamp, item.event,
                           precedence(item.event, item.timestamp, item.event_id), item.reason)


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
            set_or_null(PendingEvents.message_id, event.message_id),
            set_or_null(PendingEvents.provider_message_id, event.provider_message_id),
            PendingEvents.event_sks.add({a.item.sk for a in group}),
        ])
    # The message may have been recorded while we wrote: look again, consistently.
    recorded = [link for link, group in parked.items()
                if _find_delivery(tenant, group[0].event.message_id, group[0].event.provider_message_id,
                                  group[0].rkey, consistent=True)]
    # This request's own events show LOG_OK in its row; earlier ones linked here get a LOG_LINKED row.
    return link_pending(tenant, recorded, shown={a.item.sk for a in unmatched}) if recorded else {}


def link_pending(tenant: str, links: list[str], *, statuses_too: bool = True,
                 shown: frozenset[str] | set[str] = frozenset()) -> dict[str, str]:
    """Attach the events parked under `links` to their now recorded deliveries, and send their
    status changes (`statuses_too=False`: an erasure, which lays them over the delivery it moves).
    The ingestion log gets a LOG_LINKED row for those linked (but the erasure's, and those in `shown`:
    the request storing them shows them LOG_OK).

    Returns {event sort key: message id} of what was linked. Safe to run twice at once.
    """
    linked: dict[str, str] = {}
    logged: list[DeliveryEvent] = []
    changes: list[tuple[str, status_writer.Change]] = []
    read_at = iso(now())
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
            if statuses_too:
                changes.append((rkey, change_of(delivery, item)))
            linked[sk] = delivery.message_id
            done.add(sk)
            if statuses_too and sk not in shown:
                logged.append(item)
        if done:
            if changes:  # before the events are forgotten here: a retry links them again and sends these again
                status_writer.send(tenant, changes, read_at)
                changes = []
            _forget(pending, done)
    _log_linked(tenant, logged)
    return linked


def _log_linked(tenant: str, items: list[DeliveryEvent]) -> None:
    """One ingestion-log row per provider for events linked late, each LOG_LINKED with `linked_at`.
    Best effort: the events are linked; a failed row is logged, and never fails the recording."""
    linked_at = iso(now())
    by_provider: dict[str, list[Outcome]] = {}
    for item in items:
        by_provider.setdefault(item.provider, []).append(Outcome(
            item.event_id, LOG_LINKED, item.message_id, item.event, item.subject, item.recipient, linked_at))
    for provider, outcomes in by_provider.items():
        try:
            ingestion_log.record(tenant, provider, None, {LOG_LINKED: len(outcomes)}, outcomes,
                                 detail="events stored before their message, linked when it was recorded")
        except Exception:
            logger.warning("the LOG_LINKED row could not be written", exc_info=True,
                           extra={"tenant_id": tenant, "provider": provider})


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
