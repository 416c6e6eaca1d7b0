"""Erasure of a person (SPEC capability 10): their addresses, names, merge values and the bodies only
they received go; statuses, event types, times and counts stay, anonymous.

What is read, without a Scan (docs/data-model.md, pattern 19), a batch at a time:
  the person's deliveries: gsi4 `T#t#P#<person>`, newest first, then read in full, consistently
  (the index holds their keys, and may lag); events still waiting to be linked to them are linked
  first (`ingest.link_pending`), so that they move too; their events: per address, one Query of
  the address's partition from EVENT_SLACK before the batch's oldest send (newer deliveries'
  events have moved out already, so the range holds little else); per message: its body item,
  and whether anyone else not erased received it (gsi6, the message's recipients).

What is written, in this order, each step idempotent (docs/decisions.md, Erasure, has the table):
  0. a tombstone per delivery (`T#t#ERASED#<digest of message or provider id and address>`): a
     provider event arriving later for it is dropped, not kept unmatched under the address;
  1. a body that only this person (still intact) received: the message gets `body_erased_at`, then
     its S3 object and its body item go, as in the purge;
  2. the provider-message-id links keyed by the address are deleted;
  3. the delivery and its events move from the address's partition (`T#t#R#<address>`) to a
     pseudonym's (`T#t#R#erased:<hash>`) without name, merge values, person, family or provider ids:
     one transaction deletes the old items and writes the anonymous ones, so a delivery shows intact
     or erased, never half (a delivery with more events than a transaction takes is first marked
     erased in place). The delivery's status item (msglog.status_writer) goes in the same transaction,
     laid over the anonymous copy; its writer removes one it writes after that. Moved, it leaves the
     person's index, which so holds only what is still to do:
     a call reads only remaining work and a repeat carries on where the last one stopped;
  4. the addresses' events are read once more, and any stored while their delivery moved go after it;
  5. each moved copy's recount goes to the status writer, which counts what a change still queued for
     the old key no longer can (msglog.counts).

The pseudonym is a keyed hash of the address whose salt sits in the person's erasure record while the
erasure is under way: the same in every call (an erased recipient's messages stay countable together),
irreversible once the erasure completes and the salt is deleted. A call stops starting batches after
its time budget (well under API Gateway's 29 s) and says whether it is complete; each call leaves one
audit entry with counts, never an address.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from msglog import audit, bodies, keys, pages, people, status_writer
from msglog.auth import Caller
from msglog.clock import iso, now
from msglog.errors import Forbidden, NotFound, invalid
from msglog.ingest import change_of, link_pending, update_delivery
from msglog.models import (
    Delivery,
    DeliveryEvent,
    DeliveryStatus,
    Entity,
    ErasedDelivery,
    Erasure,
    ErasuresRunning,
    Message,
    MessageBody,
    ProviderMessageLink,
    condition_failed,
    set_or_null,
    update_if,
)

logger = Logger(child=True)
BUDGET_SECONDS = 15.0  # no new batch after this (ERASURE_BUDGET_SECONDS): the batch under way and the audit fit in 29 s
BATCH_SIZE = 25  # deliveries per batch (ERASURE_BATCH_SIZE, 1-100: one BatchGetItem)
RESERVE_MS = 10_000  # nor when the Lambda has less than this left
PASSES = 3  # walks of the person's index a call makes while deliveries change under it (then 202: repeat)
CALL_WINDOW = timedelta(minutes=2)  # a call's moves end within this of its start (PeopleFunction: 29 s at most)
EVENT_SLACK = timedelta(days=31)  # events stamped before their message's send date by up to this are found
EVENTS_PER_TRANSACTION = 50  # 100 actions: each event's delete and put
EVENTS_WITH_DELIVERY = 48  # the last transaction of a move also moves the delivery and takes its status item
PERSON_ID_MAX = 128
ACTION = "person.erased"
_LOST_RACE = frozenset({"ConditionalCheckFailed", "TransactionConflict"})  # changed meanwhile: the next call


def limits() -> tuple[float, int]:
    """The call's time budget (seconds) and batch size: template.yaml sets them; tests lower them."""
    budget = float(os.environ.get("ERASURE_BUDGET_SECONDS", BUDGET_SECONDS))
    return max(budget, 0.0), min(max(int(os.environ.get("ERASURE_BATCH_SIZE", BATCH_SIZE)), 1), 100)


@dataclass
class _Run:
    tenant: str
    person_id: str
    at: str
    salt: str | None = None
    erased: int = 0  # deliveries moved by this call
    events: int = 0
    bodies: int = 0
    skipped: int = 0  # deliveries changed while being erased: a later call erases them


def erase(caller: Caller, person_id: str, time_left: Callable[[], int]) -> dict[str, Any]:
    """Erase as much of the person as the call's budget allows; `complete` says whether anything is left."""
    caller.require("admin")
    if "*" not in caller.org_units:
        raise Forbidden("erasing a person is tenant-wide: it needs admin over all org units")
    person_id = _checked(person_id)
    budget, batch_size = limits()
    started = time.monotonic()
    run = _Run(caller.tenant, person_id, iso(now()))
    index = keys.person_pk(run.tenant, person_id)
    found, position = _page(index, batch_size, None)
    if not found and not _known(run):
        raise NotFound("no such person")  # only this tenant's keys are ever read: another's persons stay unseen
    people.forget(run.tenant, person_id)  # the directory entry and its search keys, on every call (a repeat too)
    complete = False
    passes = 1
    try:
        while True:
            if found:
                run.salt = run.salt or _begin(run)
                _batch(run, found)
            out_of_time = time.monotonic() - started >= budget or time_left() < RESERVE_MS
            if position is None:
                complete = not run.skipped
                if complete or passes == PASSES or out_of_time:
                    break
                # deliveries an event changed while they moved are still in the index: once more, from the top
                passes, run.skipped = passes + 1, 0
            elif out_of_time:
                break
            found, position = _page(index, batch_size, position)
    except Exception as error:
        _close(run, caller.sub, complete=False, started=started, error=error)
        raise
    return _close(run, caller.sub, complete=complete, started=started)


def _checked(person_id: str) -> str:
    person_id = person_id.strip()
    if not person_id or len(person_id) > PERSON_ID_MAX or "#" in person_id:
        raise invalid("person_id", f"1-{PERSON_ID_MAX} characters, no #")
    return person_id


def _page(index: str, size: int, position: dict[str, Any] | None) -> tuple[list[Delivery], dict[str, Any] | None]:
    page = Delivery.gsi4.query(index, scan_index_forward=False, limit=size, last_evaluated_key=position)
    found = list(page)
    return found, page.last_evaluated_key


def _record_key(run: _Run) -> tuple[str, str]:
    return keys.erasure_pk(run.tenant, run.person_id), keys.ERASURE_SK


def _known(run: _Run) -> bool:
    """Erased before (nothing left in the index): a repeat answers 200 with nothing erased, not 404."""
    try:
        Erasure.get(*_record_key(run), consistent_read=True, attributes_to_get=["pk", "sk", "type"])
    except Erasure.DoesNotExist:
        return False
    return True


def _begin(run: _Run) -> str:
    """The erasure's salt: kept while it is under way, so every call gives an address the same pseudonym.
    And before any move: until when the status writer must look for moved deliveries (msglog.status_writer)."""
    until = iso(datetime.fromisoformat(run.at) + CALL_WINDOW)
    update_if(ErasuresRunning, (keys.erasing_pk(run.tenant), keys.ERASING_SK),
              [ErasuresRunning.type.set(ErasuresRunning), ErasuresRunning.until.set(until)],
              ErasuresRunning.until.does_not_exist() | (ErasuresRunning.until < until))
    record = Erasure(*_record_key(run))
    record.update(actions=[Erasure.type.set(Erasure), Erasure.person_id.set(run.person_id),
                           Erasure.salt.set(Erasure.salt | secrets.token_hex(16)),
                           Erasure.started_at.set(Erasure.started_at | run.at)])
    return str(record.salt)


def _batch(run: _Run, listed: list[Delivery]) -> None:
    """Erase one batch of the person's deliveries (listed by the index, which holds only their keys)."""
    current = _current(run, listed)
    links = [link for d in current
             for link in keys.delivery_links(d.message_id, d.recipient_key, d.provider_message_id)]
    _entomb(run, links)
    if link_pending(run.tenant, links, statuses_too=False):  # events that came before their message move with it
        current = _current(run, listed)  # which they have changed
    events = _events(current)
    held = _statuses(current)
    done: set[str] = set()
    for delivery in current:
        if delivery.message_id not in done and _erase_body(run, delivery.message_id):
            run.bodies += 1
        done.add(delivery.message_id)
    with ProviderMessageLink.batch_write() as batch:
        for delivery in current:
            if delivery.provider_message_id:
                batch.delete(ProviderMessageLink(keys.provider_message_pk(run.tenant, delivery.provider_message_id),
                                                 keys.link_sk(delivery.recipient_key)))
    moved: list[Delivery] = []
    for delivery in current:
        count = _move(run, delivery, events.get((delivery.pk, delivery.message_id), []),
                      held.get((delivery.pk, keys.delivery_status_sk(delivery.message_id))))
        if count is None:
            run.skipped += 1
        else:
            run.erased += 1
            run.events += count
            moved.append(delivery)
    _move_stragglers(run, moved)
    _recount(run, moved)
    logger.debug("erasure batch", extra={"listed": len(listed), "erased": run.erased, "skipped": run.skipped})


def _move_stragglers(run: _Run, moved: list[Delivery]) -> None:
    """Events stored under the address while their delivery was moving: a provider event that matched
    it after `_events` read, before its status writer ran (which then finds the delivery gone).
    One more Query per address, after the moves; an event later still finds no delivery, and its
    tombstone drops it (msglog.ingest)."""
    by_key = {(d.pk, d.message_id): d for d in moved}
    for key, events in _events(moved).items():
        delivery = by_key[key]
        pseudonym = keys.erased_recipient_key(str(run.salt), delivery.recipient_key)
        scrub = _scrubber(delivery, pseudonym)
        pairs = [(event, _anonymous_event(run.tenant, event, pseudonym, scrub)) for event in events]
        for start in range(0, len(pairs), EVENTS_PER_TRANSACTION):
            chunk = pairs[start:start + EVENTS_PER_TRANSACTION]
            if _transact(chunk):
                run.events += len(chunk)
        # their status changes, direct or queued, found the delivery gone: the anonymous copy takes them
        anonymous = Delivery(keys.recipient_pk(run.tenant, pseudonym), delivery.sk, message_id=delivery.message_id)
        said = None
        for _, new in pairs:
            said = status_writer.merged(said, change_of(anonymous, new))
        if said:
            update_delivery(anonymous, said)


def _recount(run: _Run, moved: list[Delivery]) -> None:
    """The moved copies' counts (msglog.counts): a change still queued for the old key, or an event the move
    or `_move_stragglers` laid on the copy, finds the old delivery gone and counts nothing; the writer counts
    the copy as it is now (under the pseudonym's group: its own counts items), and once."""
    if moved:
        status_writer.send(run.tenant, [status_writer.recount(
            run.tenant, keys.erased_recipient_key(str(run.salt), d.recipient_key), d.message_id) for d in moved],
            iso(now()))


def _current(run: _Run, listed: list[Delivery]) -> list[Delivery]:
    """The listed deliveries as they are now, newest first; one gone was erased by an earlier call that
    the index has not caught up with."""
    current = [d for d in Delivery.batch_get([(d.pk, d.sk) for d in listed], consistent_read=True)
               if d.person_id == run.person_id]
    return sorted(current, key=lambda d: d.sk, reverse=True)


def _statuses(deliveries: list[Delivery]) -> dict[tuple[str, str], DeliveryStatus]:
    """The deliveries' status items (msglog.status_writer), read consistently after their tombstones."""
    wanted = [(d.pk, keys.delivery_status_sk(d.message_id)) for d in deliveries]
    return {(s.pk, s.sk): s for s in DeliveryStatus.batch_get(wanted, consistent_read=True)} if wanted else {}


def _entomb(run: _Run, links: list[str]) -> None:
    """Before anything moves: a tombstone per link, by which ingestion knows the delivery's late events
    and drops them, instead of keeping them unmatched under the address (msglog.ingest)."""
    with ErasedDelivery.batch_write() as batch:
        for link in links:
            batch.save(ErasedDelivery(keys.erased_pk(run.tenant, link), keys.ERASED_SK, erased_at=run.at))


def _events(deliveries: list[Delivery]) -> dict[tuple[str, str], list[DeliveryEvent]]:
    """The deliveries' events, by (address partition, message id): one Query per address of the batch."""
    by_address: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        by_address[delivery.pk].append(delivery)
    found: dict[tuple[str, str], list[DeliveryEvent]] = defaultdict(list)
    for pk, group in by_address.items():
        wanted = {d.message_id for d in group}
        oldest = datetime.fromisoformat(min(d.created_at for d in group)) - EVENT_SLACK
        low = keys.event_sk(iso(oldest), "")
        for event in DeliveryEvent.query(
            pk, DeliveryEvent.sk.between(low, keys.EVENT_PREFIX + "~"), consistent_read=True
        ):
            if event.message_id in wanted:
                found[(pk, event.message_id)].append(event)
    return found


def _erase_body(run: _Run, message_id: str) -> bool:
    """Step 1: delete the body if nobody else still intact received it; True if this call deleted it.

    Bodies are stored as sent to everyone, merge fields unfilled (their values are per recipient, in
    `fields`): text shared with other recipients is theirs too, and stays. A body only this person
    received is theirs — and may have been rendered for them — so it goes."""
    pk = keys.message_pk(run.tenant, message_id)
    try:
        body = MessageBody.get(pk, keys.BODY_SK, consistent_read=True, attributes_to_get=["pk", "sk", "type", "s3_key"])
    except MessageBody.DoesNotExist:
        return False  # none, purged, or erased already
    if _others_received(run, message_id):
        return False
    return bodies.remove(body, Message.body_erased_at, run.at)


def _others_received(run: _Run, message_id: str) -> bool:
    """Whether someone other than the person, not erased, received the message (its recipients: gsi6 × 8)."""
    for shard in range(keys.GROUP_SHARDS):
        recipients = pages.hydrated(Delivery, partial(
            Delivery.gsi6.query, keys.message_group_shard_pk(run.tenant, message_id, shard),
            Delivery.gsi6sk.startswith(keys.GROUP_DELIVERY_PREFIX)))(page_size=25)
        if any(d.person_id != run.person_id and not d.erased_at for d in recipients):
            return True
    return False


def _move(run: _Run, delivery: Delivery, events: list[DeliveryEvent], status: DeliveryStatus | None) -> int | None:
    """Step 3: the delivery and its events to the pseudonym's partition; the number of events moved,
    or None if one of them changed meanwhile (the next call erases it)."""
    pseudonym = keys.erased_recipient_key(str(run.salt), delivery.recipient_key)
    scrub = _scrubber(delivery, pseudonym)
    pairs = [(event, _anonymous_event(run.tenant, event, pseudonym, scrub)) for event in events]
    if len(pairs) > EVENTS_WITH_DELIVERY:
        # More than one transaction takes: show the delivery erased at once, then move its events in chunks.
        if not _mark(delivery, pseudonym, scrub, run.at):
            return None
        while len(pairs) > EVENTS_WITH_DELIVERY:
            chunk, pairs = pairs[:EVENTS_PER_TRANSACTION], pairs[EVENTS_PER_TRANSACTION:]
            if not _transact(chunk):
                return None
    anonymous = _anonymous_delivery(run, delivery, _settled(delivery, status, events), pseudonym, scrub)
    if not _transact(pairs, (delivery, anonymous, status)):
        return None
    return len(events)


def _scrubber(delivery: Delivery, pseudonym: str) -> Callable[[str | None], str | None]:
    """Provider reasons quote the address ("550 5.1.1 <pat@example.com>: user unknown"): the pseudonym instead."""
    needles = sorted({delivery.recipient_key, delivery.address} - {pseudonym, ""}, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE)

    def scrub(text: str | None) -> str | None:
        return pattern.sub(pseudonym, text) if text else text

    return scrub


def _settled(delivery: Delivery, status: DeliveryStatus | None,
             events: list[DeliveryEvent]) -> DeliveryStatus | None:
    """What the delivery's status is, whatever its writer has not applied yet: its status item with
    each of its events laid over it (all of them move with it; changes still queued find it gone).
    A copy: the move's condition needs the item as read."""
    said = None
    for event in events:
        said = status_writer.merged(said, change_of(delivery, event))
    held = DeliveryStatus.from_raw_data(status.serialize()) if status else None
    return (status_writer.updated(held, said) if said else None) or held


def _anonymous_delivery(run: _Run, delivery: Delivery, settled: DeliveryStatus | None, pseudonym: str,
                        scrub: Callable[[str | None], str | None]) -> Delivery:
    erased = Delivery.from_raw_data(delivery.serialize())
    if settled:
        status_writer.lay(erased, settled)
        erased.counted_as = settled.counted or erased.counted_as  # what its message's counts hold it at
    erased.pk = keys.recipient_pk(run.tenant, pseudonym)
    erased.address = erased.recipient_key = pseudonym
    erased.person_id = erased.family_id = erased.name = erased.fields = erased.provider_message_id = None
    erased.status_reason = scrub(erased.status_reason)
    erased.erased_at = delivery.erased_at or run.at
    erased.gsi4pk = erased.gsi4sk = erased.gsi5pk = erased.gsi5sk = None  # out of the person's and family's logs
    erased.gsi6pk = keys.message_group_pk(run.tenant, delivery.message_id, pseudonym)
    erased.gsi6sk = keys.group_delivery_sk(pseudonym)
    return erased


def _anonymous_event(tenant: str, event: DeliveryEvent, pseudonym: str,
                     scrub: Callable[[str | None], str | None]) -> DeliveryEvent:
    erased = DeliveryEvent.from_raw_data(event.serialize())
    erased.pk = keys.recipient_pk(tenant, pseudonym)
    erased.recipient = erased.recipient_key = pseudonym
    erased.person_id = erased.provider_message_id = None
    erased.reason = scrub(event.reason)
    erased.gsi2pk = keys.message_group_pk(tenant, str(event.message_id), pseudonym)  # the message's timeline
    return erased


def _mark(delivery: Delivery, pseudonym: str, scrub: Callable[[str | None], str | None], at: str) -> bool:
    """Before a move in several transactions: the delivery shows erased in place. It stays in the
    person's index (the next call finds it there) until its own move, the last one."""
    actions: list[Action] = [Delivery.address.set(pseudonym), Delivery.erased_at.set(Delivery.erased_at | at),
               Delivery.name.remove(), Delivery.fields.remove(), Delivery.family_id.remove(),
               Delivery.provider_message_id.remove(), Delivery.gsi5pk.remove(), Delivery.gsi5sk.remove()]
    if delivery.status_reason:
        actions.append(set_or_null(Delivery.status_reason, scrub(delivery.status_reason)))
    try:
        delivery.update(actions=actions, condition=Delivery.pk.exists())  # also brings `delivery` up to date
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


def _unchanged(delivery: Delivery) -> Any:
    """The delivery as read: a provider event that raised its status meanwhile (or the status writer
    its status item: `_status_unchanged`) cancels the move."""
    return Delivery.pk.exists() & (Delivery.status_precedence == delivery.status_precedence) \
        & (Delivery.last_event_at == delivery.last_event_at)


def _status_unchanged(item: DeliveryStatus) -> Any:
    """The status item as read: its writer raising it meanwhile cancels the move."""
    condition = DeliveryStatus.last_event_at == item.last_event_at
    if item.status_precedence:
        return condition & (DeliveryStatus.status_precedence == item.status_precedence)
    return condition & DeliveryStatus.status_precedence.does_not_exist()


def _transact(events: list[tuple[DeliveryEvent, DeliveryEvent]],
              delivery: tuple[Delivery, Delivery, DeliveryStatus | None] | None = None) -> bool:
    """Delete the old items and put their anonymous copies, all or none; False if one changed meanwhile.
    `delivery`: the old one, its anonymous copy, and its status item as read (None: there was none),
    which goes too — or, if there was none, must still not be there (its writer may have acted since)."""
    try:
        with TransactWrite(connection=Entity._get_connection().connection) as transaction:
            for old, new in events:
                transaction.delete(old, condition=DeliveryEvent.pk.exists())
                transaction.save(new)
            if delivery:
                old_delivery, new_delivery, status = delivery
                transaction.delete(old_delivery, condition=_unchanged(old_delivery))
                transaction.save(new_delivery)
                if status is not None:
                    transaction.delete(status, condition=_status_unchanged(status))
                else:
                    transaction.condition_check(DeliveryStatus, old_delivery.pk,
                                                keys.delivery_status_sk(old_delivery.message_id),
                                                condition=DeliveryStatus.pk.does_not_exist())
    except TransactWriteError as error:
        reasons = getattr(error, "cancellation_reasons", None) or []
        if any(r is not None and r.code in _LOST_RACE for r in reasons):
            return False
        raise  # throttling that outlasted the retries: 503, and the next call carries on
    return True


def _close(run: _Run, actor: str, *, complete: bool, started: float, error: Exception | None = None) -> dict[str, Any]:
    """Keep the totals (and, once complete, forget the salt); audit the call. Never an address."""
    duration_ms = int((time.monotonic() - started) * 1000)
    code = (getattr(error, "cause_response_code", None) or type(error).__name__) if error else None
    report = {"erased": run.erased, "events_erased": run.events, "bodies_deleted": run.bodies, "skipped": run.skipped,
              "complete": complete, "duration_ms": duration_ms, "error": code}
    logger.info("erasure call", extra=report)
    total = None
    try:
        total = _tally(run, complete)
        audit.record(run.tenant, actor=actor, action=ACTION, entity=f"person:{run.person_id}",
                     details={**report, "erased_total": total})
    except Exception:  # after a failure the call answers that failure; its counts are logged above
        if error is None:
            raise
        logger.exception("the erasure's record or audit entry could not be written after a failure")
    return {"person_id": run.person_id, "erased": run.erased, "erased_total": total, "events_erased": run.events,
            "bodies_deleted": run.bodies, "complete": complete}


def _tally(run: _Run, complete: bool) -> int:
    """Add the call's count to the record; a complete erasure forgets its salt (pseudonyms become irreversible)."""
    record = Erasure(*_record_key(run))
    actions: list[Action] = [Erasure.type.set(Erasure), Erasure.person_id.set(run.person_id),
                             Erasure.erased.add(run.erased), Erasure.calls.add(1), Erasure.updated_at.set(run.at)]
    if complete:
        actions += [Erasure.salt.remove(), Erasure.completed_at.set(run.at)]
    record.update(actions=actions)
    return int(record.erased)
