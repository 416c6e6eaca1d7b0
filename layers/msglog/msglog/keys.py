"""Every key of the single table is built here, and only here.

docs/data-model.md lists the item types, their keys and indexes, and the access pattern each
serves. All partition keys start with the tenant (`T#<tenant>`), so no key built from one
tenant's request can name another tenant's item.
"""

from __future__ import annotations

from hashlib import blake2b

DEFAULT_FEED_SHARDS = 4


def shard_of(value: str, shards: int) -> int:
    """Stable write shard of `value` in [0, shards): spreads a hot feed over several keys."""
    return int.from_bytes(blake2b(value.encode(), digest_size=4).digest(), "big") % shards


def tenant_pk(tenant: str) -> str:
    return f"T#{tenant}"


def tenant_of(pk: str) -> str:
    """The tenant a tenant's partition key belongs to (`T#<tenant>#…`; tenant ids hold no `#`)."""
    return pk.split("#", 2)[1]


# --- tenant partition: settings and provider credentials
SETTINGS_SK = "SETTINGS"


def provider_sk(provider: str) -> str:
    return f"PROVIDER#{provider}"


PROVIDER_API_PREFIX = "PROVIDERAPI#"  # not under PROVIDER#: the webhook credentials' query does not see them


def provider_api_sk(provider: str) -> str:
    """The tenant's credentials for calling the provider's API (msglog.provider_apis)."""
    return f"{PROVIDER_API_PREFIX}{provider}"


def recovery_pk(tenant: str) -> str:
    """The tenant's recovery jobs: one window of one provider's events each (msglog.recovery)."""
    return f"T#{tenant}#RECOVERY"


def recovery_sk(provider: str, start: str, end: str) -> str:
    """One job per provider and window: asking for the same window again finds its checkpoint."""
    return f"{provider}#{start}#{end}"


# --- idempotent POST /messages
def idempotency_pk(tenant: str, key: str) -> str:
    return f"T#{tenant}#IDEM#{key}"


IDEMPOTENCY_SK = "IDEM"


# --- a message: metadata and body, one partition per message
def message_pk(tenant: str, message_id: str) -> str:
    return f"T#{tenant}#M#{message_id}"


META_SK = "META"
BODY_SK = "BODY"
COUNTS_PREFIX = "COUNTS#"  # a message's counts, one item per status group (msglog.counts)


def counts_sk(tenant: str, recipient_key: str) -> str:
    """The counts item a delivery's moves go to, in its message's partition: one per StatusChanges group,
    so that its group's status writer is its only writer."""
    return f"{COUNTS_PREFIX}{shard_of(recipient_key, STATUS_GROUPS):02d}"


def sent_feed_pk(tenant: str, shard: int) -> str:
    """gsi1: the sent-message log, sorted by message id (= creation time)."""
    return f"T#{tenant}#SENT#{shard}"


# --- the sent log's other orders (msglog.sent_sorts): one copy of the message per sortable column, in gsi7,
# partitioned by tenant, column and the message's feed shard, sorted by the column's value, then the message id
SENT_SORT_COLUMNS = ("scheduled_at", "status", "category", "org_unit", "subject", "sender", "schedule_id")
SORT_VALUE_END = "\x1f"  # below every character a sortable value keeps: "ab" sorts before "ab c" and "abc"
SORT_VALUE_MAX = 200  # characters: a GSI sort key holds at most 1,024 bytes


def sent_sort_pk(tenant: str, column: str, shard: int) -> str:
    """gsi7: the sent log in the order of one column, one partition per feed shard."""
    return f"T#{tenant}#SORT#{column}#{shard}"


def sent_sort_item_sk(column: str) -> str:
    """The copy sits in its message's own partition, beside META."""
    return f"SORT#{column}"


def sent_sort_prefix(value: str) -> str:
    """Every gsi7 key of one value: a filter on the sorted column is a key condition (begins_with)."""
    return sortable(value) + SORT_VALUE_END


def sent_sort_sk(value: str, message_id: str) -> str:
    return sent_sort_prefix(value) + message_id


def sortable(value: str) -> str:
    """A value as it orders: case-folded, control characters as spaces, at most SORT_VALUE_MAX characters
    (longer ones tie there and follow their message ids). All digits: zero-padded, so 9 sorts before 10."""
    text = "".join(c if c >= " " else " " for c in value.casefold())[:SORT_VALUE_MAX]
    return text.zfill(20) if text.isdigit() and len(text) <= 20 else text


def body_due_pk(tenant: str, shard: int) -> str:
    """gsi3: bodies still kept, sorted by send time (body_due_sk), so the purge reads only due ones."""
    return f"T#{tenant}#BODY#{shard}"


def body_due_sk(sent_at: str, message_id: str) -> str:
    """The send time (fixed-width ISO), not the id: `gsi3sk < iso(now − retention)` is then exactly the due
    bodies, whatever time the id was minted at."""
    return f"{sent_at}#{message_id}"


def body_sent_at(due_sk: str) -> str:
    return due_sk.partition("#")[0]


# --- the tenant registry: the one partition not under a tenant, read only by the scheduled jobs
# (the purge), which need every tenant without a Scan. It holds tenant ids, nothing else.
TENANTS_PK = "TENANTS"


def tenant_registry_sk(tenant: str) -> str:
    return tenant


# --- delivery history: one partition per tenant and recipient
def recipient_pk(tenant: str, recipient_key: str) -> str:
    return f"T#{tenant}#R#{recipient_key}"


def delivery_sk(message_id: str) -> str:
    return f"M#{message_id}"


def delivery_status_sk(message_id: str) -> str:
    """A delivery's status as its provider events raised it (msglog.status_writer): it sorts right after the
    delivery (`M#<mid>`), so a Query of a recipient's deliveries returns each one's status beside it."""
    return status_sk_of(delivery_sk(message_id))


def status_sk_of(delivery_sort_key: str) -> str:
    return delivery_sort_key + "#S"


def event_sk(timestamp: str, event_id: str) -> str:
    return f"E#{timestamp}#{event_id}"


EVENT_PREFIX = "E#"


STATUS_GROUPS = 64  # message groups of the StatusChanges queue per tenant: the status writers that can run at once


def status_group(tenant: str, recipient_key: str) -> str:
    """A delivery's group in the StatusChanges queue: every change of one delivery goes through the same one."""
    return f"{tenant}#{shard_of(recipient_key, STATUS_GROUPS)}"


def person_pk(tenant: str, person_id: str) -> str:
    """gsi4: a person's deliveries over all their addresses."""
    return f"T#{tenant}#P#{person_id}"


def family_pk(tenant: str, family_id: str) -> str:
    """gsi5: a family's deliveries."""
    return f"T#{tenant}#F#{family_id}"


def sends_feed_pk(tenant: str, channel: str, shard: int) -> str:
    """gsi3 (keys and type only, beside the bodies' due index): every delivery of a channel, tenant-wide, by
    message (so by time); the shard is the recipient's, so one message to 50,000 spreads over the shards."""
    return f"T#{tenant}#SENDS#{channel}#{shard}"


def sends_feed_sk(message_id: str) -> str:
    """The message id alone: no address in an index key (an erasure moves the delivery, the key goes with it)."""
    return message_id


def recipient_key_of(recipient_partition: str) -> str:
    """The recipient key of a delivery's partition key (`recipient_pk`): what a keys-only index row names."""
    return recipient_partition.partition("#R#")[2]


def owner_sk(message_id: str) -> str:
    """gsi4/gsi5 order a person's or family's deliveries by message (so by time). Index keys need not
    be unique: the index row holds the table keys, and the address here would only cost bytes."""
    return message_id


# --- erasure of a person (msglog.erasure): one record per person, and the pseudonym an erased address's
# deliveries and events move to (`T#t#R#erased:<hash>`: no key of theirs holds the address any more)
def erasure_pk(tenant: str, person_id: str) -> str:
    return f"T#{tenant}#ERASURE#{person_id}"


ERASURE_SK = "ERASURE"


def erasing_pk(tenant: str) -> str:
    """Until when an erasure of the tenant may be moving deliveries (read by the status writer)."""
    return f"T#{tenant}#ERASING"


ERASING_SK = "ERASING"
ERASED_PREFIX = "erased:"


def erased_recipient_key(salt: str, recipient_key: str) -> str:
    """A keyed hash of the address: the same in every call of one erasure (the salt is kept while it is
    under way), and not reversible, even for a phone number, once the salt is deleted at its end."""
    return ERASED_PREFIX + blake2b(recipient_key.encode(), key=bytes.fromhex(salt), digest_size=8).hexdigest()


# One message can be the whole of a tenant's traffic (a district-wide alert to 50,000 families):
# each of its events writes one item into gsi2 (its deliveries are in gsi6 once, as keys), so
# 2,000 events/s spread over 8 shards stay at 250 WCU/s per key.
GROUP_SHARDS = 8


def message_group_pk(tenant: str, message_id: str, recipient_key: str) -> str:
    """A message's deliveries (gsi6, `R#`) and events (gsi2, `E#`), sharded by recipient."""
    return message_group_shard_pk(tenant, message_id, shard_of(recipient_key, GROUP_SHARDS))


def message_group_shard_pk(tenant: str, message_id: str, shard: int) -> str:
    return f"T#{tenant}#MG#{message_id}#{shard}"


def group_delivery_sk(recipient_key: str) -> str:
    return f"R#{recipient_key}"


GROUP_DELIVERY_PREFIX = "R#"


def event_feed_pk(tenant: str, shard: int) -> str:
    """gsi1: the provider event log, sorted by event time."""
    return f"T#{tenant}#EV#{shard}"


def event_feed_sk(timestamp: str, event_id: str) -> str:
    return f"{timestamp}#{event_id}"


# --- linking provider events to recorded messages
def provider_message_pk(tenant: str, provider_message_id: str) -> str:
    return f"T#{tenant}#PMID#{provider_message_id}"


def link_sk(recipient_key: str) -> str:
    return f"R#{recipient_key}"


def provider_message_claim_pk(tenant: str, provider_message_id: str) -> str:
    """The message owning a provider message id (msglog.provider_ids). Keyed by a digest: a provider's id
    may be one recipient's, and the claim outlives that recipient's erasure (as a tombstone does)."""
    return f"T#{tenant}#PMIDCLAIM#{blake2b(provider_message_id.encode(), digest_size=16).hexdigest()}"


CLAIM_SK = "CLAIM"


def pending_by_message(message_id: str, recipient_key: str) -> str:
    return f"MID#{message_id}#R#{recipient_key}"


def pending_by_provider_id(provider_message_id: str, recipient_key: str) -> str:
    return f"PMID#{provider_message_id}#R#{recipient_key}"


def delivery_links(message_id: str, recipient_key: str, provider_message_id: str | None) -> list[str]:
    """What a delivery's events are parked under while it is unknown: by our message id and, if it
    has one, by the provider's."""
    by_message = pending_by_message(message_id, recipient_key)
    if not provider_message_id:
        return [by_message]
    return [by_message, pending_by_provider_id(provider_message_id, recipient_key)]


def pending_pk(tenant: str, link: str) -> str:
    return f"T#{tenant}#PENDING#{link}"


PENDING_SK = "PENDING"


def erased_pk(tenant: str, link: str) -> str:
    """An erased delivery's tombstone, keyed by a digest of the link its late events would be parked
    under (`pending_by_message` / `pending_by_provider_id`): it knows them again without the address."""
    return f"T#{tenant}#ERASED#{blake2b(link.encode(), digest_size=16).hexdigest()}"


ERASED_SK = "ERASED"


# --- webhook replay protection: the request's ingestion-log row (`ingestion_pk`), its id derived from what
# the provider signs (msglog.ingestion_log.claim). Until issue 21 a guard item of its own,
# T#<tenant>#TOKEN#<provider>#<signed> / TOKEN: those left expire within a day (`expires_at`).


# --- when an event without a provider time was first seen (its time, the same on every retry)
def first_seen_pk(tenant: str, event_id: str) -> str:
    return f"T#{tenant}#SEEN#{event_id}"


FIRST_SEEN_SK = "SEEN"


# --- the ingestion log: one item per webhook request, time-ordered, write-sharded like the feeds
def ingestion_pk(tenant: str, shard: int) -> str:
    return f"T#{tenant}#INGEST#{shard}"


# --- ingestion health (msglog.ingestion_health): per tenant and provider, one partition holding an
# arrivals counter per hour (`H#<yyyy-mm-ddThh>`, UTC) and the incidents. "INCIDENT…" sorts after
# every "H#…", so `sk >= H#<first hour>` reads a pair's history and its incidents in one Query.
def health_pk(tenant: str, provider: str) -> str:
    return f"T#{tenant}#HEALTH#{provider}"


def health_hour_sk(hour: str) -> str:
    return f"H#{hour}"


HEALTH_OPEN_SK = "INCIDENT"  # the open incident, if any: created by a conditional put, once per incident


def health_closed_sk(incident_id: str) -> str:
    """A closed incident, kept while its silence is in the history the check reads (TTL)."""
    return f"INCIDENT#{incident_id}"


# --- alert addresses: the tenants that alert one address (`tag` = a digest of it, msglog.alerts).
# Outside any tenant, like the registry: SNS subscribes an address to a topic once, so tenants
# giving the same address share its subscription, and the last one to leave unsubscribes it.
def alert_address_pk(tag: str) -> str:
    return f"ALERTS#{tag}"


ALERT_ADDRESS_SK = "TENANTS"


# --- the suppression list: sharded by address (sk = the address key)
def suppression_pk(tenant: str, shard: int) -> str:
    return f"T#{tenant}#SUPP#{shard}"


# --- the tenant's own logs (activity, audit, panel, logins, api): time-ordered feeds, sharded;
# gsi1 finds one entity's (or one user's) records of a kind. Audit records are never changed.
LOG_KINDS = ("activity", "audit", "panel", "login", "api")


def log_pk(tenant: str, kind: str, shard: int) -> str:
    return f"T#{tenant}#LOG#{kind}#{shard}"


def log_entity_pk(tenant: str, kind: str, entity: str) -> str:
    """gsi1: one entity's records of a kind (`family:12`, `user:ann`), sorted by record id."""
    return f"T#{tenant}#LOGE#{kind}#{entity}"


def login_summary_pk(tenant: str, user_id: str) -> str:
    return f"T#{tenant}#USER#{user_id}"


LOGIN_SUMMARY_SK = "LOGINS"


# --- account statistics (seed 002): one counter item per day, channel and campaign, one
# partition per tenant and month (in the tenant's time zone), so a date range is a few Queries
def stats_pk(tenant: str, month: str) -> str:
    return f"T#{tenant}#STATS#{month}"


def stats_sk(day: str, channel: str, campaign: str) -> str:
    return f"{day}#{channel}#{campaign}"


# How the deliveries of a counter's messages moved between pending, sent and failed (msglog.counts): one item
# per counter and status group, written only by that group's status writer; the month's items are spread
# over a few partitions (by group) so that 64 writers at once do not all write one.
STATS_MOVES_PARTITIONS = 8
STATS_MOVES_SHARD_LENGTH = 3  # "#nn" after the counter's sort key


def stats_moves_pk(tenant: str, month: str, part: int) -> str:
    return f"{stats_pk(tenant, month)}#MOVES#{part}"


def stats_moves_key(counter_pk: str, counter_sk: str, recipient_key: str) -> tuple[str, str]:
    """The moves item of the counter at (`counter_pk`, `counter_sk`) that the delivery to `recipient_key` moves:
    its status group's (as `counts_sk`)."""
    group = shard_of(recipient_key, STATUS_GROUPS)
    return f"{counter_pk}#MOVES#{group % STATS_MOVES_PARTITIONS}", f"{counter_sk}#{group:02d}"


# --- an asynchronous CSV export: one item per job, read by its id (GET /v1/exports/{id}), TTL 7 days
def export_pk(tenant: str, export_id: str) -> str:
    return f"T#{tenant}#EXPORT#{export_id}"


EXPORT_SK = "EXPORT"


# --- the people directory (msglog.people): one partition per person holding the directory item and its
# search tokens; each token is a gsi1 row `T#t#PEOPLE#<shard of the person>` / `<token>\x1f<person>`, so a
# search is `begins_with(gsi1sk, <folded q>)`, one Query per shard (docs/data-model.md, pattern 24)
PEOPLE_SHARDS = 4
PERSON_SK = "PERSON"
PERSON_TOKEN_PREFIX = "TOKEN#"
TOKEN_END = "\x1f"  # below every character a token holds (control characters are never in one)


def directory_pk(tenant: str, person_id: str) -> str:
    return f"T#{tenant}#PERSON#{person_id}"


def person_token_sk(token: str) -> str:
    return PERSON_TOKEN_PREFIX + token


def people_search_pk(tenant: str, shard: int) -> str:
    """gsi1: the search tokens of the people of one shard (by person id), sorted by token."""
    return f"T#{tenant}#PEOPLE#{shard}"


def people_search_shard(person_id: str) -> int:
    return shard_of(person_id, PEOPLE_SHARDS)


def people_search_sk(token: str, person_id: str) -> str:
    return token + TOKEN_END + person_id
