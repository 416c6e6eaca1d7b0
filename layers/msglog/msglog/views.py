"""The log views: which Query each page runs, what the caller may see, and the rows it shows.

Filters that are key conditions: time range (`from`/`to`), recipient, message. Everything else
(status, category, org unit, sender, channel, event, provider, `q`, rights and org-unit scope)
is a bounded filter: a page examines at most `page_budget` (500) items per source and says how many it
examined, so a rare filter value costs more pages, never an unbounded read. `sort=date` is each
view's key order; the sent log's other columns have an index of their own (msglog.sent_sorts);
`sort=recipient|status` and the like, where a view offers them (`sorts`), read the whole range up to
a bound and sort it (`pages.sorted_page`); elsewhere a sort is a 400 naming `sort`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from functools import partial
from itertools import islice
from typing import Any

from msglog import bodies, counts, cursor, fanout, ids, keys, pages, rows, sent_sorts, status_writer
from msglog.addresses import key_of_any
from msglog.auth import RECIPIENT_LOG_RIGHTS, SENDS_RIGHTS, Caller, Grant, delivery_grants, send_grants
from msglog.clock import iso, now
from msglog.config import config
from msglog.errors import BadRequest, Forbidden, NotFound, invalid
from msglog.listing import ListQuery
from msglog.models import Delivery, DeliveryEvent, Entity, IngestionRecord, Message, MessageBody, Suppression
from msglog.precedence import rank
from msglog.suppressions import item_key
from msglog.suppressions import show as _show_suppression
from msglog.tenants import configured_providers, feed_shards, settings

DETAIL_EVENTS = 100
MAX_SEARCH_PAGES = 8  # a narrow right looks this far (8 × page_budget per shard) for a recipient it shows


# ------------------------------------------------------------------ sent-message log
def _show_message(message: Message) -> dict[str, Any]:
    sender = message.sender
    return {
        "message_id": message.message_id, "status": message.status, "channel": message.channel,
        "category": message.category, "org_unit": message.org_unit, "subject": message.subject,
        "sender": {"id": sender.id, "name": sender.name} if sender else None,
        "created_at": message.created_at, "scheduled_at": message.scheduled_at,
        "schedule_id": message.schedule_id, "campaign": message.campaign, "lists": message.lists,
        "provider": message.provider,
    }


def sent_log(caller: Caller, query: ListQuery) -> dict[str, Any]:
    """By date (`created_at`): gsi1, the sent feed, a key range per shard. By any other column of
    `keys.SENT_SORT_COLUMNS`: gsi7 (msglog.sent_sorts), the date range a bounded filter. Either way one
    Query per shard a page, `page_budget` items each at most."""
    caller.require("logs:sent")
    low, high = ids.bounds(query.start, query.end)
    tenant, shards = caller.tenant, feed_shards(caller.tenant)
    if query.sort == "created_at":
        query = replace(query, sort="date")
    f = query.filter
    if query.sort == "date":
        sources = [
            pages.Source(f"s{shard}", partial(Message.gsi1.query, keys.sent_feed_pk(tenant, shard),
                                              Message.gsi1sk.between(low, high)),
                         ("pk", "sk", "gsi1pk", "gsi1sk"), "gsi1sk")
            for shard in range(shards)
        ]
    elif query.sort in keys.SENT_SORT_COLUMNS:
        keyed = sent_sorts.KEYED_FILTERS.get(query.sort)
        value = f(query.sort) if keyed else None
        sources = sent_sorts.sources(tenant, query.sort, shards, keyed(value) if keyed and value is not None else None)
    else:
        raise invalid("sort", f"the sent log sorts by {', '.join(('created_at', *keys.SENT_SORT_COLUMNS))}")

    def keep(m: Message) -> bool:
        sender = m.sender
        return (
            isinstance(m, Message)
            and low <= m.message_id <= high
            and caller.sees_org_unit(m.org_unit)
            and pages.equals(f("status"), m.status)
            and pages.equals(f("category"), m.category)
            and pages.equals(f("org_unit"), m.org_unit)
            and pages.equals(f("channel"), m.channel)
            and (
                f("sender") is None
                or pages.equals(f("sender"), sender and sender.id)
                or pages.equals(f("sender"), sender and sender.name)
            )
            and pages.matches_row(query.q, _show_message(m))
        )

    # A message has many recipients: no recipient order here (the detail sorts its own recipients).
    return pages.key_order_page(caller, "sent", query, sources, keep, _show_message,
                                finish=partial(rows.of_messages, tenant))


# ------------------------------------------------------------------ recipient log
def _visible(caller: Caller, grants: list[Grant], delivery: Delivery | DeliveryEvent, role: str | None,
             sender_id: str | None) -> bool:
    return caller.sees_org_unit(delivery.org_unit) and any(
        g.allows(channel=delivery.channel or "", role=role, sender_id=sender_id, caller=caller) for g in grants
    )


def _fields(caller: Caller, fields: Any) -> dict[str, Any] | None:
    """Merge fields as values with logs:recipient-fields, else as their names (seed 000)."""
    if not fields:
        return None
    values = fields.as_dict() if hasattr(fields, "as_dict") else dict(fields)
    return values if caller.sees_field_values else {name: name for name in values}


def _sms_outcome(status: str) -> str:
    """Seed 001's SMS log column: queued, delivered, or not delivered (rejected, failed, undelivered)."""
    level = rank(status)
    return "not delivered" if level == 5 else "delivered" if level in (4, 6) else "queued"


def _show_delivery(caller: Caller) -> Callable[[Delivery], dict[str, Any]]:
    stuck_after = timedelta(minutes=int(settings(caller.tenant).sms_stuck_minutes))
    stuck_before = iso(now() - stuck_after)

    def show(d: Delivery) -> dict[str, Any]:
        row: dict[str, Any] = {
            "message_id": d.message_id, "channel": d.channel, "subject": d.subject, "status": d.status,
            "status_reason": d.status_reason, "created_at": d.created_at, "last_event_at": d.last_event_at,
            "address": d.address, "person_id": d.person_id, "family_id": d.family_id, "role": d.role,
            "name": d.name, "fields": _fields(caller, d.fields), "category": d.category, "org_unit": d.org_unit,
            "sender": {"id": d.sender_id, "name": d.sender_name},
        }
        if d.channel == "sms":  # no provider answer within the tenant's `sms_stuck_minutes`: stuck in the queue
            row["outcome"] = _sms_outcome(d.status)
            row["stuck"] = d.status in ("queued", "accepted") and d.last_event_at == d.created_at \
                and d.created_at < stuck_before
        if d.erased_at:  # the recipient was erased (msglog.erasure): the address is a pseudonym
            row["erased_at"] = d.erased_at
        return row

    return show


# The seed's e-mail and SMS logs sort by recipient (address or phone) or delivery status (in precedence
# order); ties newest first (order=desc) or oldest first.
DELIVERY_SORTS: dict[str, pages.SortKey] = {
    "recipient": lambda d: [d.recipient_key or "", d.message_id],
    "status": lambda d: [rank(d.status), d.status or "", d.message_id],
}


def recipient_log(caller: Caller, recipient: str, query: ListQuery) -> dict[str, Any]:
    caller.require(*RECIPIENT_LOG_RIGHTS)
    grants = delivery_grants(caller)
    channel = query.filter("channel")
    if channel:
        grants = [g for g in grants if g.channels is None or channel in g.channels]
        if not grants:
            raise Forbidden(f"no right of yours opens the {channel} log")
    low, high = ids.bounds(query.start, query.end)
    tenant = caller.tenant
    if recipient.startswith(("person:", "family:")):
        kind, _, owner = recipient.partition(":")
        if not owner or "#" in owner:
            raise invalid("recipient", "needs an id after person: or family:")
        index, pk = (
            (Delivery.gsi4, keys.person_pk(tenant, owner))
            if kind == "person"
            else (Delivery.gsi5, keys.family_pk(tenant, owner))
        )
        number = index.Meta.index_name[-1]
        sort = getattr(Delivery, f"gsi{number}sk")
        source = pages.Source("r", status_writer.hydrated(partial(index.query, pk, sort.between(low, high + "~"))),
                              ("pk", "sk", f"gsi{number}pk", f"gsi{number}sk"), f"gsi{number}sk")
    else:
        try:
            rkey = key_of_any(recipient)
        except ValueError as problem:
            raise invalid("recipient", f"{problem}; or use person:<id> / family:<id>") from None
        source = pages.Source("r", status_writer.beside(partial(
            Entity.query, keys.recipient_pk(tenant, rkey),
            Entity.sk.between(keys.delivery_sk(low), keys.delivery_status_sk(high)))),
                              ("pk", "sk"), "sk")
    f = query.filter
    show = _show_delivery(caller)

    def keep(d: Delivery) -> bool:
        return (
            isinstance(d, Delivery)
            and _visible(caller, grants, d, d.role, d.sender_id)
            and pages.equals(channel, d.channel) and pages.equals(f("status"), d.status)
            and pages.matches_row(query.q, show(d))
        )

    return pages.serve_page(
        caller,
        f"recipient:{recipient.casefold()}",
        query,
        [source],
        keep,
        show,
        sorts=DELIVERY_SORTS,
        finish=partial(rows.of_deliveries, tenant),
    )


# ------------------------------------------------------------------ sends log (seed 004)
CHANNELS = ("email", "sms", "push")


def _show_send(d: Delivery) -> dict[str, Any]:
    """A send's own columns; `campaign` and `gateway` come from its message (`_finish_sends`)."""
    row: dict[str, Any] = {
        "send_id": ids.send_id(d.message_id, d.recipient_key), "created_at": d.created_at,
        "message_id": d.message_id, "campaign": None, "channel": d.channel, "address": d.address, "gateway": None,
        "status": d.status, "error": d.status_reason if rank(d.status) == 5 else None,
        "person_id": d.person_id, "family_id": d.family_id, "role": d.role, "org_unit": d.org_unit,
    }
    if d.erased_at:
        row["erased_at"] = d.erased_at
    return row


def _gateway_names(tenant: str) -> dict[str, str]:
    """The names the tenant gave its provider configurations: one Query of its settings (pattern 2)."""
    return {p.provider: p.name for p in configured_providers(tenant) if p.name}


def _with_message(row: dict[str, Any], message: Message | None, names: dict[str, str]) -> dict[str, Any]:
    if message is not None:
        row["campaign"] = message.campaign
        row["gateway"] = names.get(message.provider or "") or message.provider
    return row


def _finish_sends(tenant: str, deliveries: list[Delivery], shown: list[dict[str, Any]]) -> None:
    """Campaign and gateway name from the page's messages (read with the rows' other needs: msglog.rows)."""
    messages = rows.of_deliveries(tenant, deliveries, shown)
    names = _gateway_names(tenant)
    for delivery, row in zip(deliveries, shown, strict=True):
        _with_message(row, messages.get(delivery.message_id), names)


def _with_messages(tenant: str, query: Callable[..., Any], messages: dict[str, Message | None]) -> Callable[..., Any]:
    """`query` reading, a page of its deliveries at a time, the messages not read yet into `messages`
    (one BatchGetItem): `q` then searches a send's campaign and gateway name as the row shows them."""

    def fetch(found: list[Any]) -> list[Any]:
        unread = {d.message_id for d in found if isinstance(d, Delivery)} - messages.keys()
        if unread:
            messages.update(dict.fromkeys(unread))
            read = fanout.get_all(Message, [(keys.message_pk(tenant, mid), keys.META_SK) for mid in unread])
            messages.update({m.message_id: m for m in read if isinstance(m, Message)})
        return found

    return pages.by_page(query, fetch)


def sends_log(caller: Caller, query: ListQuery) -> dict[str, Any]:
    """Every send (delivery) of a channel, tenant-wide, newest first (seed 004's SMS log): per channel and
    feed shard one Query of gsi3 over the time range (`T#t#SENDS#<channel>#<s>`, keys only), each page of
    keys then read from the table with the deliveries' status items (one BatchGetItem per 50: as the
    person and family logs). No `channel`: every channel the caller's rights open. Rights, roles and org
    units, `status` and `q` are bounded filters."""
    caller.require(*SENDS_RIGHTS)
    grants = send_grants(caller)
    channel = query.filter("channel")
    if channel is not None and channel not in CHANNELS:
        raise invalid("channel", "is email, sms or push")
    opened = [c for c in CHANNELS if any(g.channels is None or c in g.channels for g in grants)]
    if channel is not None and channel not in opened:
        raise Forbidden(f"no right of yours opens the {channel} sends log")
    tenant = caller.tenant
    low, high = ids.bounds(query.start, query.end)
    # With `q`, the row's campaign and gateway are searched too: its messages are read as the pages come.
    messages: dict[str, Message | None] = {}
    names = _gateway_names(tenant) if query.q else {}
    searched = partial(_with_messages, tenant, messages=messages) if query.q else (lambda read: read)
    sources = [
        pages.Source(f"{c}{shard}", searched(status_writer.hydrated(partial(
            Delivery.gsi3.query, keys.sends_feed_pk(tenant, c, shard), Delivery.gsi3sk.between(low, high)))),
                     ("pk", "sk", "gsi3pk", "gsi3sk"), "gsi3sk")
        for c in ([channel] if channel else opened) for shard in range(feed_shards(tenant))
    ]
    f = query.filter

    def keep(d: Delivery) -> bool:
        return (
            isinstance(d, Delivery)
            and _visible(caller, grants, d, d.role, d.sender_id) and pages.equals(f("status"), d.status)
            and pages.matches_row(query.q, _with_message(_show_send(d), messages.get(d.message_id), names))
        )

    return pages.serve_page(caller, "sends", query, sources, keep, _show_send, sorts=DELIVERY_SORTS,
                      finish=partial(_finish_sends, tenant))


# ------------------------------------------------------------------ provider event log
def _show_event(e: DeliveryEvent) -> dict[str, Any]:
    return {
        "event": e.event, "provider": e.provider, "provider_event": e.provider_event, "timestamp": e.timestamp,
        "recipient": e.recipient, "person_id": e.person_id, "subject": e.subject, "reason": e.reason,
        "severity": e.severity, "error_code": e.error_code, "message_id": e.message_id, "channel": e.channel,
        "event_id": e.event_id,
    }


def _event_sources(caller: Caller, query: ListQuery) -> list[pages.Source]:
    tenant = caller.tenant
    low = keys.event_sk(iso(query.start), "") if query.start else keys.EVENT_PREFIX
    high = keys.event_sk(iso(query.end), "~") if query.end else keys.EVENT_PREFIX + "~"
    if recipient := query.filter("recipient"):
        try:
            rkey = key_of_any(recipient)
        except ValueError as problem:
            raise invalid("recipient", str(problem)) from None
        return [pages.Source("r", partial(DeliveryEvent.query, keys.recipient_pk(tenant, rkey),
                                          DeliveryEvent.sk.between(low, high)), ("pk", "sk"), "sk")]
    if message_id := query.filter("message_id"):
        return [
            pages.Source(
                f"m{shard}",
                partial(
                    DeliveryEvent.gsi2.query,
                    keys.message_group_shard_pk(tenant, message_id, shard),
                    DeliveryEvent.gsi2sk.between(low, high),
                ),
                ("pk", "sk", "gsi2pk", "gsi2sk"),
                "gsi2sk",
            )
            for shard in range(keys.GROUP_SHARDS)
        ]
    feed_low = keys.event_feed_sk(iso(query.start), "") if query.start else "0"
    feed_high = keys.event_feed_sk(iso(query.end), "~") if query.end else "~"
    return [
        pages.Source(f"e{shard}", partial(DeliveryEvent.gsi1.query, keys.event_feed_pk(tenant, shard),
                                          DeliveryEvent.gsi1sk.between(feed_low, feed_high)),
                     ("pk", "sk", "gsi1pk", "gsi1sk"), "gsi1sk")
        for shard in range(feed_shards(tenant))
    ]


def event_log(caller: Caller, query: ListQuery) -> dict[str, Any]:
    caller.require("logs:provider")
    f = query.filter

    def keep(e: DeliveryEvent) -> bool:
        return (
            isinstance(e, DeliveryEvent) and caller.sees_org_unit(e.org_unit)
            and pages.equals(f("event"), e.event) and pages.equals(f("provider"), e.provider)
            and pages.equals(f("channel"), e.channel)
            and pages.matches_row(query.q, _show_event(e))
        )

    return pages.serve_page(
        caller, "events", query, _event_sources(caller, query), keep, _show_event, sorts=EVENT_SORTS
    )


# The event log's other orders read the whole key range, at most `sort_max_items` events (sorted_page): one
# message's (message_id=), one recipient's (recipient=), or a from/to that holds no more; else 400 naming sort.
EVENT_SORTS: dict[str, pages.SortKey] = {
    "recipient": lambda e: [e.recipient_key or "", e.timestamp or ""],
    "status": lambda e: [rank(e.event), e.event or "", e.timestamp or ""],
    "person_id": lambda e: [(e.person_id or "").casefold(), e.timestamp or ""],
    "subject": lambda e: [(e.subject or "").casefold(), e.timestamp or ""],
}


# ------------------------------------------------------------------ message detail
def _message_grants(caller: Caller, message: Message) -> list[Grant]:
    """The windows through which the caller sees this message's recipients (none: 404)."""
    if caller.has("logs:sent") or caller.has("logs:provider"):
        return [Grant()]
    sender_id = message.sender.id if message.sender else None
    return [g for g in delivery_grants(caller)
            if (g.channels is None or message.channel in g.channels)
            and (not g.own_messages_only or sender_id == caller.sub)]


def message_detail(caller: Caller, message_id: str, query: ListQuery) -> dict[str, Any]:
    """The message, its body while kept, its recipients (paged) and its latest events.

    Opens for any right whose view lists the message; recipients and events are narrowed to
    what that right shows. Outside the caller's org units or rights: 404.
    """
    message, grants = _opened_message(caller, message_id)
    tenant = caller.tenant
    view, bound = f"detail:{message_id}", {"limit": query.limit, "sort": query.sort, "order": query.order}
    position = cursor.decode(query.cursor, tenant=tenant, view=view, query=bound) if query.cursor else None
    everyone = grants == [Grant()]
    # A right that shows only some recipients opens the message only if it shows one of them.
    items, next_position, examined = _detail_recipients(
        _recipient_sources(tenant, message_id), _visible_to(caller, grants), query, position,
        search=not everyone and position is None)
    shown_keys = {d.recipient_key for d in items}
    recipients = [_show_delivery(caller)(d) for d in items]
    rows.of_recipients(tenant, items, recipients)
    return {
        **_show_message(message),
        **_show_body(message),
        "recipients": recipients,
        "next_cursor": cursor.encode(next_position, tenant=tenant, view=view, query=bound) if next_position else None,
        "examined": examined,
        "counts": counts.of_messages(tenant, [message])[0],  # every recipient's, whatever the caller's right shows
        "events": _latest_events(caller, message_id, None if everyone else shown_keys),
    }


def _opened_message(caller: Caller, message_id: str) -> tuple[Message, list[Grant]]:
    """The message and the windows through which the caller sees it: 403 without a right that lists
    messages, 404 when none of the caller's rights and org units shows it."""
    if not (caller.has("logs:sent") or caller.has("logs:provider") or delivery_grants(caller)):
        raise Forbidden("this needs a right that lists messages")
    message = Message.of(caller.tenant, message_id)
    grants = _message_grants(caller, message)
    if not grants or not caller.sees_org_unit(message.org_unit):
        raise NotFound("no such message")
    return message, grants


def shown_recipients(caller: Caller, message_id: str, limit: int) -> tuple[Message, list[Delivery]]:
    """The message and (up to `limit` of) its deliveries the caller's rights show, with their statuses: what
    POST /v1/messages/{id}/refresh may ask the provider about. 403 and 404 as the message detail."""
    message, grants = _opened_message(caller, message_id)
    visible = _visible_to(caller, grants)
    shown = list(islice((d for source in _recipient_sources(caller.tenant, message_id) for d in source.query()
                         if visible(d)), limit))
    if not shown:
        raise NotFound("no such message")
    return message, shown


def _visible_to(caller: Caller, grants: list[Grant]) -> Callable[[Any], bool]:
    """Whether one of `grants` shows the caller a delivery."""

    def visible(d: Delivery) -> bool:
        return isinstance(d, Delivery) and any(
            g.allows(channel=d.channel, role=d.role, sender_id=d.sender_id, caller=caller) for g in grants)

    return visible


def _recipient_sources(tenant: str, message_id: str) -> list[pages.Source]:
    """The message's deliveries, one source per shard of its recipient group index."""
    return [
        pages.Source(f"m{shard}", status_writer.hydrated(partial(
            Delivery.gsi6.query, keys.message_group_shard_pk(tenant, message_id, shard),
            Delivery.gsi6sk.startswith(keys.GROUP_DELIVERY_PREFIX))),
                     ("pk", "sk", "gsi6pk", "gsi6sk"), "gsi6sk")
        for shard in range(keys.GROUP_SHARDS)
    ]


def _detail_recipients(recipients: list[pages.Source], visible: Callable[[Any], bool], query: ListQuery,
                       position: dict[str, Any] | None, *,
                       search: bool) -> tuple[list[Any], dict[str, Any] | None, int]:
    """One page of the detail's recipients in the order asked; `search`: 404 unless the caller sees one."""
    if query.sort == "recipient":  # the index's own order: any number of recipients
        return _recipient_page(recipients, visible, query, position, search=search)
    try:
        items, next_position, examined = pages.sorted_page(recipients, visible, DETAIL_SORTS[query.sort], query,
                                                           position)
    except BadRequest:
        if search:  # "too many to sort" only about a message the caller may open
            _recipient_page(recipients, visible, query, None, search=True)
        raise
    if search and not items:
        raise NotFound("no such message")
    return items, next_position, examined


def _show_body(message: Message) -> dict[str, Any]:
    """The body while it is kept, and when it was purged or erased."""
    return {
        "body": None if message.body_purged_at or message.body_erased_at else _body(message),
        "body_purged_at": message.body_purged_at,
        **({"body_erased_at": message.body_erased_at} if message.body_erased_at else {}),
    }


# The detail's recipients: by recipient in the index's key order (any number), or by status (precedence) or
# last activity when the message has at most `sort_max_items` recipients (sorted_page).
DETAIL_SORTS: dict[str, pages.SortKey] = {
    "status": lambda d: [rank(d.status), d.status or "", d.recipient_key],
    "date": lambda d: [d.last_event_at or "", d.recipient_key],
}


def _recipient_page(recipients: list[pages.Source], visible: Callable[[Any], bool], query: ListQuery,
                    position: dict[str, Any] | None, *, search: bool) -> tuple[list[Any], dict[str, Any] | None, int]:
    """One page of the detail's recipients in key order; `search`: look on (up to MAX_SEARCH_PAGES) for a
    first recipient the caller sees, and 404 if there is none."""
    page = pages.read(recipients, keep=visible, limit=query.limit, descending=query.descending, position=position,
                      budget=config().page_budget)
    examined = page.examined
    if search:
        for _ in range(MAX_SEARCH_PAGES):
            if page.items or not page.position:
                break
            page = pages.read(recipients, keep=visible, limit=query.limit, descending=query.descending,
                              position=page.position, budget=config().page_budget)
            examined += page.examined
        if not page.items:
            raise NotFound("no such message")
    return page.items, page.position, examined


def _body(message: Message) -> dict[str, Any] | None:
    try:
        stored = MessageBody.get(message.pk, keys.BODY_SK)
    except MessageBody.DoesNotExist:
        return None
    return bodies.content(stored)  # a large one from S3


def _latest_events(caller: Caller, message_id: str, recipient_keys: set[str] | None) -> list[dict[str, Any]]:
    """The message's latest events, newest first, over all its shards (only `recipient_keys`'s if given)."""
    sources = _event_sources(caller, ListQuery(filters=(("message_id", message_id),)))

    def keep(e: DeliveryEvent) -> bool:
        return isinstance(e, DeliveryEvent) and (recipient_keys is None or e.recipient_key in recipient_keys)

    page = pages.read(sources, keep=keep, limit=DETAIL_EVENTS, descending=True, position=None,
                      budget=config().page_budget)
    return [_show_event(e) for e in page.items]


# ------------------------------------------------------------------ ingestion log
def _show_ingestion(record: IngestionRecord) -> dict[str, Any]:
    return {
        "id": record.sk, "received_at": record.received_at, "provider": record.provider,
        "request_id": record.request_id, "outcomes": record.outcomes.as_dict(),
        "events": [dict(e.as_dict() if hasattr(e, "as_dict") else e) for e in record.events or []],
        "malformed": [dict(m.as_dict() if hasattr(m, "as_dict") else m) for m in record.malformed or []],
        "detail": record.detail,
    }


def ingestion_log(caller: Caller, query: ListQuery) -> dict[str, Any]:
    """Webhook requests by time (ULID key range per shard); provider, outcome and `q` (subject,
    event, recipient) are bounded filters."""
    caller.require("logs:ingestion")
    low, high = ids.bounds(query.start, query.end)
    sources = [
        pages.Source(f"i{shard}", partial(IngestionRecord.query, keys.ingestion_pk(caller.tenant, shard),
                                          IngestionRecord.sk.between(low, high)), ("pk", "sk"), "sk")
        for shard in range(feed_shards(caller.tenant))
    ]
    f = query.filter

    def keep(record: IngestionRecord) -> bool:
        shown = _show_ingestion(record)
        return (
            isinstance(record, IngestionRecord) and pages.equals(f("provider"), record.provider)
            and ((outcome := f("outcome")) is None or outcome.upper() in shown["outcomes"])
            and (not query.q or any(pages.matches_text(query.q, e.get("subject"), e.get("event"), e.get("recipient"))
                                    for e in shown["events"]) or pages.matches_text(query.q, record.detail))
        )

    return pages.serve_page(caller, "ingestion", query, sources, keep, _show_ingestion)


# ------------------------------------------------------------------ suppression list
def suppression_list(caller: Caller, query: ListQuery) -> dict[str, Any]:
    """Suppressed addresses in address order (one Query per shard, merged); reason and `q` are
    bounded filters. `person_id=` / `family_id=`: that person's or family's (`_suppressions_of`)."""
    caller.require("suppressions:read", "suppressions:write")
    f = query.filter

    def keep(item: Suppression) -> bool:
        return isinstance(item, Suppression) and not item.reset_at and pages.equals(f("reason"), item.reason) \
            and pages.matches_text(query.q, item.address, item.reason, item.detail)

    if f("person_id") or f("family_id"):
        return _suppressions_of(caller, query, keep)
    sources = [pages.Source(f"s{shard}", partial(Suppression.query, keys.suppression_pk(caller.tenant, shard)),
                            ("pk", "sk"), "sk") for shard in range(feed_shards(caller.tenant))]
    return pages.serve_page(caller, "suppressions", query, sources, keep, _show_suppression)


OWNER_DELIVERIES = 500  # a person's or family's latest deliveries whose addresses a suppression lookup checks


def _suppressions_of(caller: Caller, query: ListQuery, keep: Callable[[Any], bool]) -> dict[str, Any]:
    """A person's or family's "Blacklisted Recipients" (seed 001): the addresses of their latest
    OWNER_DELIVERIES deliveries (one Query of gsi4 or gsi5, keys only: the address key is in the table's
    partition key), then one BatchGetItem of those addresses' suppression items. One page, in address
    order; no cursor."""
    person, family = query.filter("person_id"), query.filter("family_id")
    if person and family:
        raise invalid("family_id", "give person_id or family_id, not both")
    if "#" in (person or family or ""):
        raise invalid("person_id" if person else "family_id", "is not an id (no #)")
    tenant = caller.tenant
    index, pk = ((Delivery.gsi4, keys.person_pk(tenant, person)) if person
                 else (Delivery.gsi5, keys.family_pk(tenant, family or "")))
    if query.cursor:
        raise invalid("cursor", "a person's or family's suppressions come in one page")
    addresses = {keys.recipient_key_of(row.pk) for row in index.query(pk, scan_index_forward=False,
                                                                      limit=OWNER_DELIVERIES)}
    wanted = [item_key(tenant, rkey) for rkey in sorted(addresses) if not rkey.startswith(keys.ERASED_PREFIX)]
    found = sorted((item for item in fanout.get_all(Suppression, wanted) if keep(item)), key=lambda item: item.sk,
                   reverse=query.descending)
    return {"items": [_show_suppression(item) for item in found[:query.limit]], "next_cursor": None,
            "examined": len(addresses)}
