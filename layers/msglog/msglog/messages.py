"""Recording sent messages and their recipients.

Writes go body, deliveries, provider-id links, then the message itself last: the sent log only
shows a message once all of it is stored. With an Idempotency-Key a retried request (or one that
failed half way) writes the same items again under the same message id, so it completes
instead of duplicating.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import Attribute
from pynamodb.exceptions import PutError
from pynamodb.expressions.update import Action

from msglog import bodies, counts, fanout, keys, people, provider_ids, screening, sent_sorts, stats, status_writer
from msglog.addresses import recipient_key
from msglog.auth import Caller
from msglog.clock import iso, now
from msglog.errors import BadRequest, Conflict, FieldError, Forbidden, NotFound
from msglog.ids import new_ulid
from msglog.models import Delivery, IdempotencyRecord, Message, ProviderMessageLink, condition_failed, put_if_absent
from msglog.precedence import INITIAL_STATUS, precedence
from msglog.tenants import feed_shards, register

if TYPE_CHECKING:  # the handler has validated the body; the log views that read messages never build it
    from msglog.schemas import MessageIn, RecipientIn

IDEMPOTENCY_TTL = timedelta(hours=24)


def record(caller: Caller, message: MessageIn, idempotency_key: str | None) -> tuple[str, bool]:
    """Store `message`; returns (message id, whether this call created it)."""
    if not caller.sees_org_unit(message.org_unit):
        raise Forbidden("you can only record messages of your org units",
                        [FieldError("org_unit", "is not one of your org units")])
    created = message.created_at or now()
    message_id = new_ulid(created)
    _check_addresses(message.channel, message.recipients, "recipients")
    idem, claimed = None, message_id
    if idempotency_key:
        idem, message_id = _claim(caller.tenant, idempotency_key, message, message_id)
        if idem.completed:
            return message_id, False
    kept = screening.recipients(caller.tenant, message_id, message.channel, message.subject, message.recipients)
    if kept is None:  # the logging policy leaves it out: the ingestion log says why, nothing else is stored
        return message_id, False
    message = message.model_copy(update={"recipients": kept})
    provider_ids.claim(caller.tenant, message_id, message.channel, message.recipients)  # before anything is written
    tenant, shards = caller.tenant, feed_shards(caller.tenant)
    item = Message(
        keys.message_pk(tenant, message_id), keys.META_SK, message_id=message_id, channel=message.channel,
        category=message.category, org_unit=message.org_unit,
        sender=message.sender.model_dump() if message.sender else None,
        subject=message.subject, provider=message.provider, created_at=iso(created),
        scheduled_at=iso(message.scheduled_at) if message.scheduled_at else None,
        schedule_id=message.schedule_id, campaign=message.campaign, lists=message.lists,
        status=message.status, recorded_by=caller.sub,
        has_body=bool(message.body and (message.body.text or message.body.html)),
        gsi1pk=keys.sent_feed_pk(tenant, keys.shard_of(message_id, shards)), gsi1sk=message_id,
    )
    item.stats_pk, item.stats_sk = stats.counter_key(tenant, item)
    register(tenant)  # before any body is stored: the purge lists tenants from the registry
    if message.body and (message.body.text or message.body.html):
        # due by the send date (created_at, which a backfill sets in the past), not by the id's time
        bodies.store(tenant, message_id, item.created_at, message.body.text, message.body.html, shards)
    # a message id this call claimed is its own; one claimed earlier may be another client's, writing at once
    _write_recipients(tenant, item, message.recipients, fresh=message_id == claimed)
    counts.set_base(item, len({recipient_key(r.address, item.channel) for r in message.recipients}),
                    INITIAL_STATUS[message.status])
    stored = stats.save_counted(item, recipients=len(message.recipients))
    sent_sorts.save(tenant, item, shards)  # the sent log's other orders, once META is there
    if idem:
        idem.update(actions=[IdempotencyRecord.completed.set(True)])
    return message_id, stored


def add_recipients(caller: Caller, message_id: str, recipients: list[RecipientIn]) -> dict[str, int]:
    """Add recipients to a recorded message, or update them (e.g. attach provider message ids)."""
    message = Message.of(caller.tenant, message_id)
    if not caller.sees_org_unit(message.org_unit):
        raise NotFound("no such message")
    _check_addresses(message.channel, recipients, "recipients")
    recipients = screening.recipients(caller.tenant, message_id, message.channel, message.subject, recipients) or []
    provider_ids.claim(caller.tenant, message_id, message.channel, recipients)
    written = _write_recipients(caller.tenant, message, recipients, counted=False)
    stats.add_recipients(message, written["added"])
    # not in the message's base: the status writer counts them, once (a retry's are counted already)
    rkeys = {recipient_key(r.address, message.channel) for r in recipients}
    if rkeys:
        status_writer.send(caller.tenant, [status_writer.recount(caller.tenant, rkey, message_id) for rkey in rkeys],
                           iso(now()))
    return written


def _check_addresses(channel: str, recipients: list[RecipientIn], path: str) -> None:
    errors: list[FieldError] = []
    seen: dict[str, int] = {}
    for index, recipient in enumerate(recipients):
        try:
            rkey = recipient_key(recipient.address, channel)
        except ValueError as problem:
            errors.append(FieldError(f"{path}[{index}].address", f"{problem} for channel {channel}"))
            continue
        if rkey in seen:
            errors.append(FieldError(f"{path}[{index}].address", f"repeats {path}[{seen[rkey]}].address"))
        seen[rkey] = index
    if errors:
        raise BadRequest("some recipients are not valid", errors)


def _claim(tenant: str, key: str, message: MessageIn, message_id: str) -> tuple[IdempotencyRecord, str]:
    if len(key) > 255 or "#" in key:
        raise BadRequest("Idempotency-Key: at most 255 characters, no #", [FieldError("Idempotency-Key", "is invalid")])
    digest = hashlib.sha256(message.model_dump_json().encode()).hexdigest()
    record = IdempotencyRecord(keys.idempotency_pk(tenant, key), keys.IDEMPOTENCY_SK, request_hash=digest,
                               message_id=message_id, expires_at=now() + IDEMPOTENCY_TTL)
    if (earlier := put_if_absent(record)) is None:
        return record, message_id
    if earlier.request_hash != digest:
        raise Conflict("this Idempotency-Key was used for a different message",
                       [FieldError("Idempotency-Key", "was used for a different request body")])
    return earlier, earlier.message_id


def _delivery(tenant: str, message: Message, recipient: RecipientIn, counted: bool = True) -> Delivery:
    rkey = recipient_key(recipient.address, message.channel)
    status = INITIAL_STATUS[message.status]
    sender = message.sender
    item = Delivery(
        keys.recipient_pk(tenant, rkey), keys.delivery_sk(message.message_id),
        message_id=message.message_id, address=recipient.address.strip(), recipient_key=rkey,
        person_id=recipient.person_id, family_id=recipient.family_id, role=recipient.role,
        name=recipient.name, fields=recipient.fields, provider_message_id=recipient.provider_message_id,
        channel=message.channel, subject=message.subject, category=message.category,
        org_unit=message.org_unit, sender_id=sender.id if sender else None,
        sender_name=sender.name if sender else None, created_at=message.created_at,
        status=status, status_precedence=precedence(status, message.created_at), last_event_at=message.created_at,
        stats_pk=message.stats_pk, stats_sk=message.stats_sk,
        counted_as=status if counted else None,  # in the message's base (msglog.counts)
        gsi6pk=keys.message_group_pk(tenant, message.message_id, rkey),
        gsi6sk=keys.group_delivery_sk(rkey),
        gsi3pk=keys.sends_feed_pk(tenant, message.channel, keys.shard_of(rkey, feed_shards(tenant))),
        gsi3sk=keys.sends_feed_sk(message.message_id),
    )
    if recipient.person_id:
        item.gsi4pk, item.gsi4sk = keys.person_pk(tenant, recipient.person_id), keys.owner_sk(message.message_id)
    if recipient.family_id:
        item.gsi5pk, item.gsi5sk = keys.family_pk(tenant, recipient.family_id), keys.owner_sk(message.message_id)
    return item


def _write_recipients(tenant: str, message: Message, recipients: list[RecipientIn],
                      fresh: bool = False, counted: bool = True) -> dict[str, int]:
    """New deliveries are written only where none is (conditional puts; batch-written when the
    message is `fresh`, its id this call's own); ones already recorded only get the fields now given,
    so a status that events have raised is never reset, and a delivery that several clients add at
    once is added (and counted) once. `counted`: the new ones are in the message's base (msglog.counts), as
    when it is recorded; added later they are not, and the status writer counts them."""
    wanted = {}
    for recipient in recipients:
        item = _delivery(tenant, message, recipient, counted)
        wanted[item.pk] = (item, recipient)
    existing = {d.pk for d in fanout.get_all(Delivery, [(i.pk, i.sk) for i, _ in wanted.values()], consistent=True)}
    links, pending = [], []
    for pk, (item, recipient) in wanted.items():
        if pk in existing:
            _update_recipient(item, recipient)
        pending += keys.delivery_links(message.message_id, item.recipient_key, recipient.provider_message_id)
        if recipient.provider_message_id:
            links.append(ProviderMessageLink(
                keys.provider_message_pk(tenant, recipient.provider_message_id), keys.link_sk(item.recipient_key),
                message_id=message.message_id, recipient_key=item.recipient_key,
            ))
    new = [item for pk, (item, _) in wanted.items() if pk not in existing]
    if fresh:
        fanout.save_all(Delivery, new)
    else:
        for pk in _put_new(new):  # added meanwhile by another client: only the fields now given
            existing.add(pk)
            _update_recipient(*wanted[pk])
    fanout.save_all(ProviderMessageLink, links)
    from msglog.ingest import link_pending  # ingestion's code, only where recipients are written

    linked = link_pending(tenant, pending) if pending else {}
    people.record(tenant, message, recipients)  # the people directory: only what changed is written
    return {"added": len(wanted) - len(existing), "updated": len(existing), "events_linked": len(linked)}


def _put_new(items: list[Delivery]) -> list[str]:
    """Each delivery put unless one is there already; the keys (pk) of those that were."""
    def put(item: Delivery) -> str | None:
        try:
            item.save(condition=Delivery.pk.does_not_exist())
        except PutError as error:
            if not condition_failed(error):
                raise
            return item.pk
        return None

    return [pk for pk in fanout.each(put, items) if pk]


def _update_recipient(item: Delivery, recipient: RecipientIn) -> None:
    given = recipient.model_dump(exclude_unset=True, exclude={"address"})
    attributes: dict[str, Attribute[Any]] = {
        "person_id": Delivery.person_id, "family_id": Delivery.family_id, "role": Delivery.role,
        "name": Delivery.name, "fields": Delivery.fields, "provider_message_id": Delivery.provider_message_id}
    actions: list[Action] = [attributes[name].set(value) for name, value in given.items() if value is not None]
    for index_pk, index_sk in (("gsi4pk", "gsi4sk"), ("gsi5pk", "gsi5sk")):
        if getattr(item, index_pk):
            actions += [getattr(Delivery, index_pk).set(getattr(item, index_pk)),
                        getattr(Delivery, index_sk).set(getattr(item, index_sk))]
    if actions:
        item.update(actions=actions)
