"""The rows a tenant's list views show, built with the service's own models and key builders.

Written straight into the table (BatchWriteItem, bench.local_aws) rather than through the API:
loading 100,000 rows through the handlers would take moto far longer than the benchmark may.
The values are the data model's "typical" ones (a 40-character subject, two merge fields, a
Mailgun reason), so the items have the sizes a Query of them returns in production.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from msglog import keys, sent_sorts
from msglog.clock import iso
from msglog.ids import new_ulid
from msglog.models import Delivery, DeliveryEvent, DeliveryStatus, IngestionRecord, Message, Suppression
from msglog.precedence import precedence

SUBJECT = "Missing assignment: Algebra worksheet 4."
SENDER = {"id": "dmatthews", "name": "Matthews, Dexter"}
HEAVY_ADDRESS = "office.manager@lincoln-high.example.edu"  # the recipient-log view's recipient


def message(tenant: str, created: datetime, shards: int) -> dict[str, Any]:
    """A sent message (gsi1: the sent log)."""
    mid = new_ulid(created)
    return Message(
        keys.message_pk(tenant, mid), keys.META_SK, message_id=mid, channel="email", category="Missing Assignment",
        org_unit="lincoln-high", sender=SENDER, subject=SUBJECT, provider="mailgun", created_at=iso(created),
        campaign="Missing work", lists=["Grade 9"], status="sent", recorded_by="dmatthews",
        gsi1pk=keys.sent_feed_pk(tenant, keys.shard_of(mid, shards)), gsi1sk=mid,
    ).serialize()


def message_with_copies(tenant: str, created: datetime, shards: int) -> list[dict[str, Any]]:
    """A sent message as msglog.messages.record writes it: META (gsi1) and its copy per sortable column (gsi7)."""
    meta = Message.from_raw_data(message(tenant, created, shards))
    return [meta.serialize(), *(copy.serialize() for copy in sent_sorts.copies(tenant, meta, shards))]


def delivery(tenant: str, address: str, created: datetime, n: int) -> list[dict[str, Any]]:
    """One message to `address` (the recipient log's row), delivered (gsi4 person, gsi6 group, gsi5 family: keys only),
    and the status item its opening left (the status writer's, as for every delivery of a large webhook request)."""
    mid, rkey, at = new_ulid(created), address.lower(), iso(created + timedelta(seconds=40))
    opened = iso(created + timedelta(hours=2))
    status = DeliveryStatus(keys.recipient_pk(tenant, rkey), keys.delivery_status_sk(mid), status="opened",
                            status_precedence=precedence("opened", opened, "sendgrid.x"), last_event_at=opened)
    return [status.serialize(), Delivery(
        keys.recipient_pk(tenant, rkey), keys.delivery_sk(mid), message_id=mid, address=address, recipient_key=rkey,
        person_id=f"S{n % 50:04d}", family_id=f"F{n % 400:05d}", role="staff", name="Manager, Office",
        fields={"guardian.name": "Office Manager", "student.firstname": "Jane"},
        provider_message_id=f"{secrets.token_hex(8)}@mg.example.edu", channel="email", subject=SUBJECT,
        category="Missing Assignment", org_unit="lincoln-high", sender_id=SENDER["id"], sender_name=SENDER["name"],
        created_at=iso(created), status="delivered", status_precedence=precedence("delivered", at, "mailgun.x"),
        last_event_at=at,
        gsi4pk=keys.person_pk(tenant, f"S{n % 50:04d}"), gsi4sk=keys.owner_sk(mid),
        gsi6pk=keys.message_group_pk(tenant, mid, rkey), gsi6sk=keys.group_delivery_sk(rkey),
        gsi5pk=keys.family_pk(tenant, f"F{n % 400:05d}"), gsi5sk=keys.owner_sk(mid),
    ).serialize()]


def event(tenant: str, at: datetime, n: int, shards: int) -> dict[str, Any]:
    """A matched provider event (gsi1: the event log; gsi2: its message's timeline)."""
    address = f"guardian.{n % 1000:04d}@example.com"
    event_id, mid, when = f"mailgun.{secrets.token_urlsafe(16)[:22]}", new_ulid(at - timedelta(minutes=5)), iso(at)
    return DeliveryEvent(
        keys.recipient_pk(tenant, address), keys.event_sk(when, event_id), event_id=event_id, provider="mailgun",
        provider_event="failed", event="bounced", timestamp=when, recipient=address, recipient_key=address,
        reason="550 5.1.1 The email account that you tried to reach does not exist.", severity="permanent",
        error_code="550", provider_message_id=f"{secrets.token_hex(8)}@mg.example.edu", message_id=mid,
        subject=SUBJECT, channel="email", person_id=f"P{n % 1000:05d}", org_unit="lincoln-high", received_at=when,
        gsi1pk=keys.event_feed_pk(tenant, keys.shard_of(event_id, shards)), gsi1sk=keys.event_feed_sk(when, event_id),
        gsi2pk=keys.message_group_pk(tenant, mid, address), gsi2sk=keys.event_sk(when, event_id),
    ).serialize()


def ingestion(tenant: str, at: datetime, n: int, shards: int) -> dict[str, Any]:
    """The ingestion log's record of a one-event webhook request."""
    record_id = new_ulid(at)
    return IngestionRecord(
        keys.ingestion_pk(tenant, keys.shard_of(record_id, shards)), record_id, request_id=secrets.token_hex(16),
        provider="mailgun", received_at=iso(at), outcomes={"LOG_OK": 1},
        events=[{"code": "LOG_OK", "event_id": f"mailgun.{secrets.token_urlsafe(16)[:22]}", "event": "delivered",
                 "subject": SUBJECT, "message_id": new_ulid(at), "recipient": f"guardian.{n % 1000:04d}@example.com"}],
        expires_at=at + timedelta(days=90),
    ).serialize()


def suppression(tenant: str, at: datetime, n: int, shards: int) -> dict[str, Any]:
    """A suppressed address (a hard bounce), sharded by address."""
    rkey = f"former.student.{n:06d}@example.com"
    return Suppression(
        keys.suppression_pk(tenant, keys.shard_of(rkey, shards)), rkey, address=rkey, reason="bounce",
        detail="550 5.1.1 The email account that you tried to reach does not exist.",
        source=f"mailgun.{secrets.token_urlsafe(16)[:22]}", created_at=iso(at), created_by="provider:mailgun",
    ).serialize()
