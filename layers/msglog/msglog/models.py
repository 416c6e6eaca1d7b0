"""pynamodb models of the one table (keys come from msglog.keys; docs/data-model.md explains them).

All item types share one table and one connection; a `type` discriminator lets a Query over
mixed items (a message's deliveries and events) come back as the right classes. The table's
definition lives in template.yaml; tests/template checks that these indexes match it.
"""

from __future__ import annotations

import os
from typing import Any, cast

from pynamodb.attributes import (
    Attribute,
    BinaryAttribute,
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection import TableConnection
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from msglog.errors import NotFound
from msglog.ids import is_ulid
from msglog.keys import META_SK, STATS_MOVES_SHARD_LENGTH, message_pk
from msglog.snapstart import after_restore, before_snapshot


class Gsi1(GlobalSecondaryIndex):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex):
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class Gsi3(GlobalSecondaryIndex):
    """Bodies still kept, by send time: what the purge needs to remove one, without its text."""

    class Meta:
        index_name = "gsi3"
        projection = IncludeProjection(["type", "s3_key"])

    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


# A delivery's own indexes hold its keys (and item type) only: its status changes with every event,
# and an index that projected it would take a write of the whole item on each one (docs/data-model.md). Views
# read the deliveries they list from the table, one BatchGetItem per page with their status items
# (msglog.status_writer.hydrated).
class Gsi4(GlobalSecondaryIndex):
    """A person's deliveries."""

    class Meta:
        index_name = "gsi4"
        projection = IncludeProjection(["type"])  # keys, and the type pynamodb's queries filter on

    gsi4pk = UnicodeAttribute(hash_key=True)
    gsi4sk = UnicodeAttribute(range_key=True)


class Gsi5(GlobalSecondaryIndex):
    """A family's deliveries."""

    class Meta:
        index_name = "gsi5"
        projection = IncludeProjection(["type"])  # keys, and the type pynamodb's queries filter on

    gsi5pk = UnicodeAttribute(hash_key=True)
    gsi5sk = UnicodeAttribute(range_key=True)


class Gsi6(GlobalSecondaryIndex):
    """A message's deliveries (its recipients), in 8 groups."""

    class Meta:
        index_name = "gsi6"
        projection = IncludeProjection(["type"])  # keys, and the type pynamodb's queries filter on

    gsi6pk = UnicodeAttribute(hash_key=True)
    gsi6sk = UnicodeAttribute(range_key=True)


class Gsi7(GlobalSecondaryIndex):
    """The sent log in another column's order (msglog.sent_sorts): copies of messages, whole, so a page is one
    Query per shard and no second read."""

    class Meta:
        index_name = "gsi7"
        projection = AllProjection()

    gsi7pk = UnicodeAttribute(hash_key=True)
    gsi7sk = UnicodeAttribute(range_key=True)


class Entity(Model):
    class Meta:
        table_name = os.environ.get("TABLE_NAME", "message-log")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        max_retry_attempts = 8  # botocore's backoff absorbs throttling before a request fails

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    type = DiscriminatorAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    gsi4pk = UnicodeAttribute(null=True)
    gsi4sk = UnicodeAttribute(null=True)
    gsi5pk = UnicodeAttribute(null=True)
    gsi5sk = UnicodeAttribute(null=True)
    gsi6pk = UnicodeAttribute(null=True)
    gsi6sk = UnicodeAttribute(null=True)
    gsi7pk = UnicodeAttribute(null=True)
    gsi7sk = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)

    gsi1 = Gsi1()
    gsi2 = Gsi2()
    gsi3 = Gsi3()
    gsi4 = Gsi4()
    gsi5 = Gsi5()
    gsi6 = Gsi6()
    gsi7 = Gsi7()

    @classmethod
    def _get_connection(cls) -> TableConnection:
        # One connection (one botocore client) for every item type, not one per subclass.
        return Model._get_connection.__func__(Entity)  # type: ignore[attr-defined]


def condition_failed(error: Exception) -> bool:
    """A conditional write that lost (the item was already there, or already newer): not a failure."""
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def put_if_absent[E: Entity](item: E) -> E | None:
    """Write `item` unless an item has its key: None when written, else the one there (read consistently)."""
    try:
        item.save(condition=type(item).pk.does_not_exist())
        return None
    except PutError as error:
        if not condition_failed(error):
            raise
    return type(item).get(item.pk, item.sk, consistent_read=True)


def list_of[T](item: type[Attribute[T]], *, null: bool = False) -> ListAttribute[T]:
    """A ListAttribute of `item`s, typed as the list of their values (pynamodb types it as a list of
    the attribute class)."""
    return cast(ListAttribute[T], ListAttribute(of=item, null=null))


def set_or_null(attribute: Attribute[Any], value: object) -> Action:
    """`attribute.set(value)`, None included: written as DynamoDB's NULL, as pynamodb does (its
    signature leaves None out)."""
    return Path(attribute).set(value)


def update_if(model: type[Model], key: tuple[str, str], actions: list[Any], condition: Any) -> bool:
    """UpdateItem `key` if `condition` holds; whether it did. Nothing is read back: pynamodb's
    `Model.update` asks for the whole new item (ALL_NEW) and parses it, which a webhook's
    updates never use."""
    try:
        model._get_connection().update_item(*key, actions=actions, condition=condition)
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


class TenantSettings(Entity, discriminator="tenant"):
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)  # the display name (an enterprise's roll-up shows customers by it)
    retention_months = NumberAttribute(default=24)
    privacy_mode = BooleanAttribute(default=False)
    time_zone = UnicodeAttribute(default="UTC")
    alert_email = UnicodeAttribute(null=True)
    alert_subscription_arn = UnicodeAttribute(null=True)  # the address's AlertsTopic subscription (msglog.alerts)
    sms_stuck_minutes = NumberAttribute(default=30)  # an SMS without a provider answer this long is "stuck"
    log_retention_days = NumberAttribute(default=90)  # API, panel, login and ingestion logs (DynamoDB TTL)
    customers = UnicodeSetAttribute(null=True)  # an enterprise's linked customer tenants (operators link them)
    # {internal_domains, ignore_addresses, ignore_subject_patterns}: what the logs leave out (msglog.policy)
    logging_policy: MapAttribute[str, Any] = MapAttribute(null=True)
    feed_shards = NumberAttribute(default=4)
    updated_at = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)


class RegisteredTenant(Entity, discriminator="registered-tenant"):
    """A tenant in the registry the scheduled jobs list (`TENANTS` / tenant id)."""

    tenant_id = UnicodeAttribute()
    registered_at = UnicodeAttribute()


class ProviderCredentials(Entity, discriminator="provider"):
    provider = UnicodeAttribute()
    name = UnicodeAttribute(null=True)  # the gateway name the tenant gave it, shown in the sends log (not secret)
    ciphertext = BinaryAttribute(legacy_encoding=False)  # KMS, encryption context: tenant + provider
    key_count = NumberAttribute(default=1)
    topic_arns = UnicodeSetAttribute(null=True)  # SES: not secret, kept in clear
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()


class ProviderApiCredentials(Entity, discriminator="provider-api"):
    """What the service calls a provider's API with (refresh, recovery): all of it encrypted, as the
    webhook credentials are, under its own encryption context (msglog.tenants.api_credentials)."""

    provider = UnicodeAttribute()
    ciphertext = BinaryAttribute(legacy_encoding=False)
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()


class RecoveryJob(Entity, discriminator="recovery"):
    """A window of one provider's events being fetched and ingested (msglog.recovery): its checkpoint."""

    provider = UnicodeAttribute()
    window_start = UnicodeAttribute()
    window_end = UnicodeAttribute()
    status = UnicodeAttribute()  # queued, running, waiting (rate limited), failed (resumable), done
    position = UnicodeAttribute(null=True)  # where the provider's listing goes on (its own paging token)
    pages = NumberAttribute(default=0)
    outcomes: MapAttribute[str, Any] = MapAttribute(null=True)  # outcome code -> events, over every run
    detail = UnicodeAttribute(null=True)
    retry_at = UnicodeAttribute(null=True)
    started_by = UnicodeAttribute()
    started_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    runs = NumberAttribute(default=0)
    failures = NumberAttribute(default=0)  # provider failures in a row: ingestion health's resume backs off, then stops


class IdempotencyRecord(Entity, discriminator="idempotency"):
    request_hash = UnicodeAttribute()
    message_id = UnicodeAttribute()
    completed = BooleanAttribute(default=False)


class Sender(MapAttribute[str, Any]):
    id = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)


class Message(Entity, discriminator="message"):
    message_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    category = UnicodeAttribute(null=True)
    org_unit = UnicodeAttribute(null=True)
    sender = Sender(null=True)
    subject = UnicodeAttribute(null=True)
    provider = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    scheduled_at = UnicodeAttribute(null=True)
    schedule_id = UnicodeAttribute(null=True)
    campaign = UnicodeAttribute(null=True)
    lists = ListAttribute(of=UnicodeAttribute, null=True)
    status = UnicodeAttribute(default="sent")
    has_body = BooleanAttribute(null=True)  # a body was recorded (None: recorded before this was kept)
    body_purged_at = UnicodeAttribute(null=True)
    body_erased_at = UnicodeAttribute(null=True)  # its only recipient was erased (msglog.erasure)
    recorded_by = UnicodeAttribute(null=True)
    stats_pk = UnicodeAttribute(null=True)  # the account-statistics counter it counts in (msglog.stats)
    stats_sk = UnicodeAttribute(null=True)
    # its recipients as recorded, counted as `counted_as` (msglog.counts): the base its counts items move from
    counted_recipients = NumberAttribute(null=True)
    counted_as = UnicodeAttribute(null=True)

    @classmethod
    def of(cls, tenant: str, message_id: str) -> Message:
        """The tenant's message, or NotFound (an id that is not a ULID is not even looked up)."""
        if not is_ulid(message_id):
            raise NotFound("no such message")
        try:
            return cls.get(message_pk(tenant, message_id), META_SK)
        except cls.DoesNotExist:
            raise NotFound("no such message") from None


class SortedMessage(Message, discriminator="message-sort"):
    """A copy of a message in the order of one of its columns (`SORT#<column>` beside META; gsi7). Rewritten
    from META whenever a column it sorts or shows changes (msglog.sent_sorts.restate)."""


class MessageBody(Entity, discriminator="body"):
    message_id = UnicodeAttribute()
    text = UnicodeAttribute(null=True)
    html = UnicodeAttribute(null=True)
    s3_key = UnicodeAttribute(null=True)  # a large body: gzip JSON in the MessageBodies bucket (msglog.bodies)


class Delivery(Entity, discriminator="delivery"):
    """One message to one recipient: the recipient log's row, with the current status."""

    message_id = UnicodeAttribute()
    address = UnicodeAttribute()
    recipient_key = UnicodeAttribute()
    person_id = UnicodeAttribute(null=True)
    family_id = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    fields: MapAttribute[str, Any] = MapAttribute(null=True)  # merge-field name -> value
    provider_message_id = UnicodeAttribute(null=True)
    # copied from the message so that a recipient-log page needs no second read
    channel = UnicodeAttribute()
    subject = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    org_unit = UnicodeAttribute(null=True)
    sender_id = UnicodeAttribute(null=True)
    sender_name = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    status = UnicodeAttribute()
    status_precedence = UnicodeAttribute()  # msglog.precedence.precedence of the current status
    status_reason = UnicodeAttribute(null=True)
    last_event_at = UnicodeAttribute()
    stats_pk = UnicodeAttribute(null=True)  # the account-statistics counter this delivery counts in
    stats_sk = UnicodeAttribute(null=True)
    counted_as = UnicodeAttribute(null=True)  # the status its message's counts hold it at, until its status item says
    erased_at = UnicodeAttribute(null=True)  # the recipient was erased: address a pseudonym, no name or fields


class DeliveryStatus(Entity, discriminator="status"):
    """A delivery's status as its provider events raised it (`M#<mid>#S`, beside the delivery; ~150 B, table only).
    Written by msglog.status_writer alone; readers lay it over the delivery, which keeps the status it was
    recorded with."""

    status = UnicodeAttribute(null=True)  # none while only unranked events came (their time still counts)
    status_precedence = UnicodeAttribute(null=True)
    status_reason = UnicodeAttribute(null=True)
    last_event_at = UnicodeAttribute()
    counted = UnicodeAttribute(null=True)  # the status its message's counts hold the delivery at (msglog.counts)


class Person(Entity, discriminator="person"):
    """A people-directory entry (msglog.people): what the person's recorded recipients said of them, merged."""

    person_id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)  # name, role, family: as the latest message gave them
    role = UnicodeAttribute(null=True)
    family_id = UnicodeAttribute(null=True)
    addresses = UnicodeSetAttribute(null=True)  # recipient keys (e-mail lower-cased, E.164 phone); push tokens not
    org_units = UnicodeSetAttribute(null=True)  # of the messages they were sent
    last_message_at = UnicodeAttribute()
    tokens = UnicodeSetAttribute(null=True)  # the search tokens written for it (PersonToken): a row not here is stale
    version = NumberAttribute(default=0)  # optimistic lock of the whole entry's rewrite


class PersonToken(Entity, discriminator="person-token"):
    """One search token of a person (`TOKEN#<token>` in the person's partition), a gsi1 row."""

    person_id = UnicodeAttribute()
    token = UnicodeAttribute()


class Erasure(Entity, discriminator="erasure"):
    """A person's erasure (msglog.erasure): its progress over the calls, and the pseudonyms' salt while under way."""

    person_id = UnicodeAttribute()
    salt = UnicodeAttribute(null=True)  # hex; deleted when the erasure completes (pseudonyms become irreversible)
    started_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    completed_at = UnicodeAttribute(null=True)
    erased = NumberAttribute(default=0)  # deliveries erased over all calls
    calls = NumberAttribute(default=0)


class ErasuresRunning(Entity, discriminator="erasing"):
    """Until when an erasure of the tenant may be moving deliveries (msglog.erasure sets it as a call
    starts): the status writer checks that a delivery is still there only for changes made before then."""

    until = UnicodeAttribute()


class DeliveryEvent(Entity, discriminator="event"):
    """What a provider said about one delivery. Unlinked until its message is recorded."""

    event_id = UnicodeAttribute()
    provider = UnicodeAttribute()
    provider_event = UnicodeAttribute()
    event = UnicodeAttribute()
    timestamp = UnicodeAttribute()
    recipient = UnicodeAttribute()
    recipient_key = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    severity = UnicodeAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    provider_message_id = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    subject = UnicodeAttribute(null=True)
    channel = UnicodeAttribute(null=True)
    person_id = UnicodeAttribute(null=True)
    org_unit = UnicodeAttribute(null=True)
    received_at = UnicodeAttribute()


class ProviderMessageLink(Entity, discriminator="link"):
    message_id = UnicodeAttribute()
    recipient_key = UnicodeAttribute()


class ProviderMessageClaim(Entity, discriminator="pmid-claim"):
    """The message a provider message id belongs to: the first that recorded it (msglog.provider_ids)."""

    message_id = UnicodeAttribute()
    claimed_at = UnicodeAttribute()


class PendingEvents(Entity, discriminator="pending"):
    """Events waiting for their message (or provider message id) to be recorded."""

    recipient_key = UnicodeAttribute()
    message_id = UnicodeAttribute(null=True)
    provider_message_id = UnicodeAttribute(null=True)
    event_sks = UnicodeSetAttribute()


class WebhookToken(Entity, discriminator="token"):
    """The replay guard item until issue 21 (now the request's IngestionRecord): kept so that those still
    in the table, until they expire, read as what they are."""

    digest = UnicodeAttribute()


class ErasedDelivery(Entity, discriminator="erased"):
    """An erased delivery's tombstone (msglog.erasure): its late provider events are dropped, not kept
    under the address. The key is a digest; nothing else names the recipient."""

    erased_at = UnicodeAttribute()


class FirstSeen(Entity, discriminator="seen"):
    """When an event that carries no provider time was first received (Twilio)."""

    at = UnicodeAttribute()


class IngestionRecord(Entity, discriminator="ingestion"):
    """What became of one webhook request: an outcome code per event (the CRM logger's codes)."""

    request_id = UnicodeAttribute(null=True)
    provider = UnicodeAttribute()
    received_at = UnicodeAttribute()
    outcomes: MapAttribute[str, int] = MapAttribute()  # code -> count
    # [{"code", "event_id", "event", "subject", "recipient", "message_id", "linked_at"}], ≤ 100
    events: ListAttribute[dict[str, Any]] = ListAttribute(null=True)
    malformed: ListAttribute[dict[str, Any]] = ListAttribute(null=True)  # [{"index", "fields", "raw"}], ≤ 50
    detail = UnicodeAttribute(null=True)  # why a refused request was refused
    # A request keyed by what its provider signs (msglog.webhooks): a digest of its content. The item is
    # the request's replay guard too: what was signed may come again only with this content (a retry).
    digest = UnicodeAttribute(null=True)


class Arrivals(Entity, discriminator="arrivals"):
    """Verified webhook requests of one tenant and provider in one hour (msglog.ingestion_health)."""

    hour = UnicodeAttribute()  # yyyy-mm-ddThh, UTC
    requests = NumberAttribute(default=0)
    events = NumberAttribute(default=0)
    refused = NumberAttribute(null=True)  # requests refused for their signature or credentials


class HealthIncident(Entity, discriminator="health-incident"):
    """A tenant/provider pair whose webhooks stopped: open (sk INCIDENT) until they come back, then closed."""

    provider = UnicodeAttribute()
    incident_id = UnicodeAttribute()
    opened_at = UnicodeAttribute()
    silent_since = UnicodeAttribute()  # the end of the last hour with webhooks
    threshold_hours = NumberAttribute()  # the silence that was unusual for this pair
    active_hours = NumberAttribute()  # hours with webhooks in the history read
    events = NumberAttribute()  # events in the history read
    closed_at = UnicodeAttribute(null=True)
    resumed_hour = UnicodeAttribute(null=True)
    alerted_at = UnicodeAttribute(null=True)  # the last daily reminder (none yet: opened_at is the alert's time)
    reminders = NumberAttribute(null=True)  # daily reminders sent while it lasts


class AlertAddress(Entity, discriminator="alert-address"):
    """The tenants whose alerts go to one address (by digest): its subscription's users."""

    tenants = UnicodeSetAttribute(null=True)


class Suppression(Entity, discriminator="suppression"):
    address = UnicodeAttribute()
    reason = UnicodeAttribute()  # bounce, complaint, invalid, validate, manual
    detail = UnicodeAttribute(null=True)
    source = UnicodeAttribute()  # the provider event id, or "admin"
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    reset_at = UnicodeAttribute(null=True)  # reset by an administrator: only later events suppress again
    reset_by = UnicodeAttribute(null=True)


class LogRecord(Entity, discriminator="record"):
    """One line of the tenant's activity, audit, panel, login or API request log (`kind`)."""

    kind = UnicodeAttribute()
    record_id = UnicodeAttribute()  # a ULID of `at`: the seeds' consecutive id
    at = UnicodeAttribute()
    actor_id = UnicodeAttribute(null=True)
    actor_name = UnicodeAttribute(null=True)
    actor_email = UnicodeAttribute(null=True)
    ip = UnicodeAttribute(null=True)
    action = UnicodeAttribute(null=True)
    entity = UnicodeAttribute(null=True)
    org_unit = UnicodeAttribute(null=True)
    details: MapAttribute[str, Any] = MapAttribute(null=True)
    method = UnicodeAttribute(null=True)  # panel, api
    url = UnicodeAttribute(null=True)  # panel: the page; api: the path (the route under privacy mode)
    route = UnicodeAttribute(null=True)  # api
    status = UnicodeAttribute(null=True)  # api, panel: HTTP status; login: success / failed
    user_agent = UnicodeAttribute(null=True)
    country = UnicodeAttribute(null=True)  # login: the location as the SaaS gave it
    state = UnicodeAttribute(null=True)
    city = UnicodeAttribute(null=True)
    request_id = UnicodeAttribute(null=True)
    source = UnicodeAttribute(null=True)  # who wrote it: "service", or "caller:<sub>" (msglog.provenance)


class LoginSummary(Entity, discriminator="login-summary"):
    """A user's last successful and last failed login (the user-login log's two date columns)."""

    user_id = UnicodeAttribute()
    last_success_at = UnicodeAttribute(null=True)
    last_failure_at = UnicodeAttribute(null=True)


class MessageCounts(Entity, discriminator="counts"):
    """How one status group's deliveries of a message moved from the message's base (msglog.counts): each
    field may be negative here; the base plus every group's item is the message's counts. ~150 B."""

    recipients = NumberAttribute(default=0)
    pending = NumberAttribute(default=0)
    sent = NumberAttribute(default=0)
    delivered = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    opened = NumberAttribute(default=0)
    clicked = NumberAttribute(default=0)
    unsubscribed = NumberAttribute(default=0)
    complained = NumberAttribute(default=0)


class StatsCounter(Entity, discriminator="stats"):
    """Messages and recipients of one campaign (or subject) on one channel and day, and their bases' sent and
    failed (a counter written before issue 18's counts also holds a `failed` of first failures, no longer read)."""

    day = UnicodeAttribute()
    channel = UnicodeAttribute()
    campaign = UnicodeAttribute()
    messages = NumberAttribute(default=0)
    recipients = NumberAttribute(default=0)
    senders = UnicodeSetAttribute(null=True)
    lists = UnicodeSetAttribute(null=True)
    # its messages' recipients as recorded that count as sent or failed (msglog.counts: the messages' bases);
    # StatsMoves items hold how they moved since. Absent on counters of messages recorded before counts.
    counted_sent = NumberAttribute(null=True)
    counted_failed = NumberAttribute(null=True)


class StatsMoves(Entity, discriminator="statsmoves"):
    """How one status group's deliveries of a counter's messages moved out of or into sent and failed since
    recorded (keys.stats_moves_key; may be negative). Its day, channel and campaign are its sort key's."""

    sent = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)

    def _counter_sk(self) -> list[str]:
        return self.sk[:-STATS_MOVES_SHARD_LENGTH].split("#", 2)

    @property
    def day(self) -> str:
        return self._counter_sk()[0]

    @property
    def channel(self) -> str:
        return self._counter_sk()[1]

    @property
    def campaign(self) -> str:
        return self._counter_sk()[2]


class ExportJob(Entity, discriminator="export"):
    """An asynchronous CSV export (msglog.exports): what it reports, as whom, and how far it got.

    `query` and `caller` are JSON: the list query and the starter's rights and org units as they were
    at the start, so every run shows exactly what the starter's view showed then.
    """

    export_id = UnicodeAttribute()
    owner = UnicodeAttribute()  # the starter's sub: only they read the job
    view = UnicodeAttribute()
    args = UnicodeAttribute()  # JSON
    list_query = UnicodeAttribute(attr_name="query")  # JSON (not `query`: that is Model.query)
    caller = UnicodeAttribute()  # JSON
    status = UnicodeAttribute()  # running, done, failed
    created_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    rows = NumberAttribute(default=0)  # rows committed (written to S3 and counted here together)
    size = NumberAttribute(default=0)  # bytes committed
    cursor = UnicodeAttribute(null=True)  # the view's next_cursor after the last committed chunk
    columns = list_of(UnicodeAttribute, null=True)  # only ever grows: the header is written last
    chunk_runs = list_of(NumberAttribute, null=True)  # the run that wrote each committed chunk object
    rows_done = BooleanAttribute(default=False)  # every row is in a chunk: only the joining is left
    object_key = UnicodeAttribute(null=True)
    runs = NumberAttribute(default=0)
    lease_until = NumberAttribute(null=True)  # epoch seconds: one run at a time
    holder = UnicodeAttribute(null=True)  # the queue message of the run holding the lease


@before_snapshot
def _load_dynamodb_client() -> None:
    # At publish, not on a request: the client's service model and endpoint rules go into the snapshot.
    Entity._get_connection().connection.client  # noqa: B018 - the property makes the client


@after_restore
def _forget_dynamodb_credentials() -> None:
    # The client signs with the credentials resolved before the snapshot: a restored copy makes a new
    # client and resolves its own, from the same botocore session (its loaded models are shareable).
    if Entity._connection is not None:
        connection = Entity._connection.connection
        connection._client = None
        connection.session._credentials = None


def reset() -> None:
    """Tests: a fresh container opens its own DynamoDB connection (to the endpoint they set)."""
    Entity._connection = None
