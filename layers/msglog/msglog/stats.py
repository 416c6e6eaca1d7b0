"""Account statistics (seed 002's account logs): messages, recipients, sent and failed per day,
channel and campaign, in the tenant's time zone; an enterprise sees its linked customers'.

Counters are kept as messages are recorded and as their deliveries' statuses change, never computed by
reading deliveries. Each is counted exactly once however often providers retry: a message's messages,
recipients and base (its recipients as recorded, sent or failed: msglog.counts) are added in the same
transaction that first stores the message; `sent` (it left the server: sent, delivered, opened/read,
clicked, unsubscribed, complained) and `failed` (rank 5) then move with the message's counts, by the
status writer, in its counter's StatsMoves items (one per status group: never a hot item).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from msglog import counts, fanout, keys
from msglog.auth import Caller
from msglog.errors import NotFound, invalid
from msglog.models import Entity, Message, StatsCounter, StatsMoves
from msglog.tenants import display_name, settings

MAX_DAYS = 366
MAX_COUNTERS_READ = 20_000
MAX_MOVES_READ = 100_000  # ≤ STATUS_GROUPS a counter, ~100 B each: ≤ 10 MB, ~1,250 read units
CHANNELS = ("email", "sms", "push")
_TYPED = StatsCounter.type.set(StatsCounter)  # an update may create the counter: give it its item type


def campaign_of(message: Message) -> str:
    return (message.campaign or message.subject or "(no subject)")[:200]


def counter_key(tenant: str, message: Message) -> tuple[str, str]:
    """Where a message counts: its send day in the tenant's time zone (fixed when it is recorded)."""
    zone = ZoneInfo(settings(tenant).time_zone or "UTC")
    day = datetime.fromisoformat(message.created_at).astimezone(zone).date().isoformat()
    return keys.stats_pk(tenant, day[:7]), keys.stats_sk(day, message.channel, campaign_of(message))


def _transaction() -> TransactWrite:
    return TransactWrite(connection=Entity._get_connection().connection)


def _already_done(error: TransactWriteError) -> bool:
    reasons = getattr(error, "cancellation_reasons", None) or []
    return any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons)


def save_counted(message: Message, recipients: int) -> bool:
    """Store the message and add it to its counter, both or neither; storing it again adds nothing.
    Whether this call stored it."""
    day, channel, campaign = message.stats_sk.split("#", 2)
    actions: list[Action] = [_TYPED, StatsCounter.messages.add(1), StatsCounter.recipients.add(recipients),
               StatsCounter.day.set(day), StatsCounter.channel.set(channel), StatsCounter.campaign.set(campaign)]
    sender = message.sender
    if sender and (sender.name or sender.id):
        actions.append(StatsCounter.senders.add({sender.name or sender.id}))
    if message.lists:
        actions.append(StatsCounter.lists.add(set(message.lists)))
    actions += base_actions(message)
    try:
        with _transaction() as transaction:
            transaction.save(message, condition=Message.pk.does_not_exist())
            transaction.update(StatsCounter(message.stats_pk, message.stats_sk), actions=actions)
    except TransactWriteError as error:
        if not _already_done(error):
            raise
        return False
    return True


def base_actions(message: Message) -> list[Action]:
    """What the message's counts base (msglog.counts.set_base) adds to its counter's sent and failed."""
    base, counted = int(message.counted_recipients or 0), counts.fields_of(message.counted_as)
    return [StatsCounter.counted_sent.add(base if "sent" in counted else 0),
            StatsCounter.counted_failed.add(base if "failed" in counted else 0)]


def add_recipients(message: Message, count: int) -> None:
    """Recipients added to a message after it was recorded (counted once the deliveries are stored)."""
    if count and message.stats_pk:
        StatsCounter(message.stats_pk, message.stats_sk).update(actions=[_TYPED, StatsCounter.recipients.add(count)])


# ------------------------------------------------------------------ the view
def _days(caller: Caller, start: datetime | None, end: datetime | None) -> tuple[date, date, str]:
    zone_name = settings(caller.tenant).time_zone or "UTC"
    zone = ZoneInfo(zone_name)
    last = (end or datetime.now(zone)).astimezone(zone).date()
    first = start.astimezone(zone).date() if start else last - timedelta(days=29)
    if first > last:
        raise invalid("from", "must not be after to")
    if (last - first).days >= MAX_DAYS:
        raise invalid("from", f"the range is limited to {MAX_DAYS} days")
    return first, last, zone_name


def _months(first: date, last: date) -> list[str]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


ALL_CUSTOMERS = "*"  # customer=*: every linked customer at once (the enterprise roll-up)
ROLLUP_MAX_CUSTOMERS = 50  # a roll-up of transactions reads feed_shards Queries per customer and page


def _tenants(caller: Caller, customer: str | None, group: str) -> list[str]:
    """The caller's tenant, or the customer tenants operations linked to it (enterprise roll-up)."""
    if customer is None and group != "customer":
        return [caller.tenant]
    linked = sorted(settings(caller.tenant).customers or ())
    if customer is None or customer == ALL_CUSTOMERS:
        return linked
    if customer not in linked:
        raise NotFound("no such customer of this tenant")
    return [customer]


def readable_tenants(caller: Caller, customer: str | None) -> list[str]:
    """Whose records a log of the caller's shows: its own, one linked customer's, or (`*`) every linked
    customer's (at most ROLLUP_MAX_CUSTOMERS: each costs its own Queries on every page)."""
    tenants = _tenants(caller, customer, "day")
    if customer == ALL_CUSTOMERS:
        if not tenants:
            raise NotFound("this tenant has no linked customers")
        if len(tenants) > ROLLUP_MAX_CUSTOMERS:
            raise invalid("customer", f"customer=* rolls up at most {ROLLUP_MAX_CUSTOMERS} linked customers and this "
                                      f"tenant has {len(tenants)}: name one customer")
    return tenants


Counted = StatsCounter | StatsMoves  # a counter, or how its deliveries moved in one status group


def _counters(tenants: Iterable[str], first: date, last: date) -> list[tuple[str, Counted]]:
    """The range's counters, per tenant and month one Query, at once; then, of each tenant and month that has
    any, the same range of its moves partitions (keys.STATS_MOVES_PARTITIONS), at once: a moves item is in its
    counter's month, so a month without counters (an enterprise's quiet customer) costs one Query, not nine."""
    days = (first.isoformat(), f"{last.isoformat()}~")
    read = {"counters": 0, "moves": 0}

    def query(partition: tuple[str, str, int | None]) -> list[tuple[str, Counted]]:
        tenant, pk, part = partition
        found: list[tuple[str, Counted]] = []
        items = StatsCounter.query(pk, StatsCounter.sk.between(*days)) if part is None \
            else StatsMoves.query(pk, StatsMoves.sk.between(*days))
        kind, limit = ("counters", MAX_COUNTERS_READ) if part is None else ("moves", MAX_MOVES_READ)
        for item in items:
            read[kind] += 1  # across the Queries at once: a bound, not an exact figure
            if read[kind] > limit:
                raise invalid("from", "too many campaigns in this range; narrow it or filter by channel")
            found.append((tenant, item))
        return found

    months = [(tenant, month) for tenant in tenants for month in _months(first, last)]
    counters = fanout.each(query, [(tenant, keys.stats_pk(tenant, month), None) for tenant, month in months])
    moves = [(tenant, keys.stats_moves_pk(tenant, month, part), part)
             for (tenant, month), found in zip(months, counters, strict=True) if found
             for part in range(keys.STATS_MOVES_PARTITIONS)]
    return [pair for found in [*counters, *fanout.each(query, moves)] for pair in found]


def _sent_failed(counter: Counted) -> tuple[int, int]:
    if isinstance(counter, StatsMoves):
        return int(counter.sent or 0), int(counter.failed or 0)
    return int(counter.counted_sent or 0), int(counter.counted_failed or 0)


def _counts(counters: list[Counted]) -> dict[str, int]:
    kept = [c for c in counters if isinstance(c, StatsCounter)]
    moved = [_sent_failed(c) for c in counters]
    return {"messages": sum(int(c.messages) for c in kept), "recipients": sum(int(c.recipients) for c in kept),
            "sent": sum(sent for sent, _ in moved), "failed": sum(failed for _, failed in moved)}


def _by_channel(counters: list[Counted]) -> dict[str, dict[str, int]]:
    return {channel: _counts([c for c in counters if c.channel == channel]) for channel in CHANNELS}


def _matches(counter: Any, channel: str | None, campaign: str | None, q: str | None) -> bool:
    """Whether a counter is one the filters ask for (a campaign's name containing `q`, any case)."""
    return (isinstance(counter, StatsCounter | StatsMoves) and (channel is None or counter.channel == channel)
            and (campaign is None or counter.campaign == campaign)
            and (not q or q.casefold() in counter.campaign.casefold()))


def _grouped(chosen: list[tuple[str, Counted]], group: str) -> dict[Any, list[Counted]]:
    """The counters by day, by customer (tenant) or by (campaign, channel)."""
    groups: dict[Any, list[Counted]] = defaultdict(list)
    for tenant, counter in chosen:
        key = {"day": counter.day, "customer": tenant}.get(group) or (counter.campaign, counter.channel)
        groups[key].append(counter)
    return groups


def _campaign_row(key: tuple[str, str], counters: list[Counted]) -> dict[str, Any]:
    days = sorted(c.day for c in counters)
    kept = [c for c in counters if isinstance(c, StatsCounter)]
    return {"campaign": key[0], "channel": key[1], "first_date": days[0], "last_date": days[-1],
            **_counts(counters),
            "sent_by": sorted(set().union(*(c.senders or set() for c in kept))),
            "lists": sorted(set().union(*(c.lists or set() for c in kept)))}


def _row(group: str, key: Any, counters: list[Counted]) -> dict[str, Any]:
    """One item of the view: a campaign's totals, or a day's or a customer's per channel."""
    if group == "campaign":
        return _campaign_row(key, counters)
    row = {"date" if group == "day" else "customer": key, "channels": _by_channel(counters)}
    return row if group == "day" else {**row, "customer_name": display_name(key)}


# The items' order: days and campaigns (by last day) newest first, customers by id.
_ORDER: dict[str, Callable[[dict[str, Any]], Any]] = {
    "day": lambda i: i["date"], "customer": lambda i: i["customer"],
    "campaign": lambda i: (i["last_date"], i["campaign"]),
}


def view(caller: Caller, *, start: datetime | None, end: datetime | None, group: str, channel: str | None,
         campaign: str | None, q: str | None, customer: str | None) -> dict[str, Any]:
    caller.require("stats:read")
    first, last, zone = _days(caller, start, end)
    chosen = [(tenant, c) for tenant, c in _counters(_tenants(caller, customer, group), first, last)
              if _matches(c, channel, campaign, q)]
    items = [_row(group, key, counters) for key, counters in _grouped(chosen, group).items()]
    items.sort(key=_ORDER[group], reverse=group != "customer")
    return {"from": first.isoformat(), "to": last.isoformat(), "time_zone": zone, "group": group,
            "totals": _by_channel([c for _, c in chosen]), "items": items}
