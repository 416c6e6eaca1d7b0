"""A scheduled message's life after it is recorded (PATCH /v1/messages/{id}, right messages:write).

Only a `scheduled` message moves: to `queued`, `sent` or `canceled`, or to another `scheduled_at`. The
move is one conditional update (`status = scheduled`), so of two PATCHes at once only one applies; the
other gets 409. Canceling then marks each recipient still pending (accepted, queued, scheduled,
deferred) `canceled` as ingestion does, by condition on the delivery's status, and queues its recount
(its counts and the account statistics' `failed` move with it: msglog.counts). Recipients are walked
through the message's recipients index (gsi6, keys.GROUP_SHARDS groups) page by page within a time
budget; what does not fit is left for a repeat of the PATCH (202), which walks again and skips what is
done.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from msglog import audit, keys, sent_sorts, status_writer
from msglog.auth import Caller
from msglog.clock import iso, now
from msglog.errors import Conflict, FieldError, NotFound, invalid
from msglog.models import Delivery, DeliveryStatus, Entity, Message, condition_failed, update_if
from msglog.precedence import precedence
from msglog.tenants import feed_shards

if TYPE_CHECKING:
    from msglog.schemas import MessageChange

PENDING = ("accepted", "queued", "scheduled", "deferred")  # not yet left: what canceling may still stop
CANCEL_SECONDS = 20.0  # of the Lambda's time (API Gateway answers within 29 s); the rest waits for a repeat
PAGE = 50  # deliveries a Query page (and one BatchGetItem of them and their status items)
CANCEL_EVENT_ID = "message-canceled"
CANCEL_REASON = "the message was canceled"


def change(caller: Caller, message_id: str, body: MessageChange) -> tuple[dict[str, Any], bool]:
    """Apply `body` to the message; (what it is now, whether all its work is done)."""
    message = Message.of(caller.tenant, message_id)
    if not caller.sees_org_unit(message.org_unit):
        raise NotFound("no such message")
    if body.status is None and body.scheduled_at is None:
        raise invalid("status", "give status, scheduled_at or both")
    repeat = message.status == "canceled" and body.status == "canceled" and body.scheduled_at is None
    if not repeat:  # a repeated cancel continues its recipients; anything else moves the message
        message = _move(caller, message, body)
    answer: dict[str, Any] = {"message_id": message_id, "status": message.status,
                              "scheduled_at": message.scheduled_at}
    complete = True
    if message.status == "canceled":
        canceled, complete = cancel_recipients(caller.tenant, message, time.monotonic() + CANCEL_SECONDS)
        answer.update(recipients_canceled=canceled, complete=complete)
    return answer, complete


def _move(caller: Caller, message: Message, body: MessageChange) -> Message:
    if message.status != "scheduled":
        raise _not_scheduled(message.status)
    before = {"status": message.status, "scheduled_at": message.scheduled_at}
    actions: list[Action] = []
    if body.status is not None:
        actions.append(Message.status.set(body.status))
    if body.scheduled_at is not None:
        actions.append(Message.scheduled_at.set(iso(body.scheduled_at)))
    try:
        message.update(actions=actions, condition=Message.status == "scheduled")
    except UpdateError as error:
        if not condition_failed(error):
            raise
        raise _not_scheduled(Message.of(caller.tenant, message.message_id).status) from None
    sent_sorts.save(caller.tenant, message, feed_shards(caller.tenant))  # the sent log's other orders show it
    audit.record(caller.tenant, actor=caller.sub, action="message.changed", entity=f"message:{message.message_id}",
                 details={"from_status": before["status"], "status": message.status,
                          "from_scheduled_at": before["scheduled_at"], "scheduled_at": message.scheduled_at})
    return message


def _not_scheduled(status: str) -> Conflict:
    return Conflict(f"the message is {status}: only a scheduled message changes",
                    [FieldError("status", f"is {status}; only a scheduled message moves")])


def cancel_recipients(tenant: str, message: Message, deadline: float) -> tuple[int, bool]:
    """Mark the message's pending recipients canceled; (how many this call marked, whether it walked them all)."""
    canceled = 0
    for shard in range(keys.GROUP_SHARDS):
        found = Delivery.gsi6.query(keys.message_group_shard_pk(tenant, message.message_id, shard),
                                    Delivery.gsi6sk.startswith(keys.GROUP_DELIVERY_PREFIX), page_size=PAGE)
        rows: list[Any] = []
        for row in found:
            rows.append(row)
            if len(rows) == PAGE:
                if time.monotonic() >= deadline:
                    return canceled, False
                canceled += _cancel(tenant, rows)
                rows = []
        if rows:
            if time.monotonic() >= deadline:
                return canceled, False
            canceled += _cancel(tenant, rows)
    return canceled, True


def _cancel(tenant: str, rows: list[Any]) -> int:
    """One page: each delivery (with its status item laid over it) still pending becomes canceled."""
    wanted = [(row.pk, row.sk) for row in rows]
    read_at = iso(now())
    found = {(item.pk, item.sk): item
             for item in Entity.batch_get(wanted + [(pk, keys.status_sk_of(sk)) for pk, sk in wanted],
                                          consistent_read=True)}
    at = iso(now())
    news = precedence("canceled", at, CANCEL_EVENT_ID)
    marked = 0
    recounts = []
    for pk, sk in wanted:
        delivery = found.get((pk, sk))
        if not isinstance(delivery, Delivery):
            continue  # erased meanwhile
        status = found.get((pk, keys.status_sk_of(sk)))
        if isinstance(status, DeliveryStatus):
            status_writer.lay(delivery, status)
        # by condition too: an event that raised it meanwhile (past pending) keeps its status
        if delivery.status in PENDING and update_if(
                Delivery, (pk, sk),
                [Delivery.status.set("canceled"), Delivery.status_precedence.set(news),
                 Delivery.status_reason.set(CANCEL_REASON)],
                Delivery.pk.exists() & Delivery.status.is_in(*PENDING) & (Delivery.status_precedence < news)):
            marked += 1
            delivery.status = "canceled"
        if delivery.status == "canceled":  # also one an earlier attempt marked
            recounts.append(status_writer.recount(tenant, delivery.recipient_key, delivery.message_id))
    if recounts:  # its counts move as the status writer counts them (msglog.counts)
        status_writer.send(tenant, recounts, read_at)
    return marked
