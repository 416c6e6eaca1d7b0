"""Figure 5: how many items the retention purge reads for each body it purges, vs a Scan.

A tenant gets BODIES messages (message item + body item), 1% of them sent before the retention
cutoff (24 months, the default), the rest within the last 20 months. The service's purge
(msglog.purge, through the PurgeFunction handler, for this tenant) purges the due bodies; they are
then written again, and a naive peer that Scans the table for due bodies purges them the same
way. Every DynamoDB call is counted; "items read" is what each Query, Get and Scan (its
ScannedCount) returned. If the purge is not built yet, the design's read — one gsi3 Query per
shard bounded by the cutoff — is measured instead.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.local_aws import LocalAws
from bench.meter import METER
from bench.work import Work, measure

TENANT = "bench-purge"
BODIES = 5000
DUE_SHARE = 0.01
RETENTION_MONTHS = 24  # TenantSettings' default
FEED_SHARDS = 4
TARGET = 1.05
TEXT = "Dear guardian, Jane has not handed in worksheet 4. Please remind her."


@dataclass
class PurgeRun:
    label: str
    purged: int
    work: Work
    table_items: int = 0  # what a Scan has to read: everything in the table
    how: str = ""

    @property
    def items_read(self) -> int:
        return self.work.items_read

    @property
    def read_per_purged(self) -> float:
        return self.items_read / self.purged if self.purged else float("inf")


def _due_sort_key(sent_at: str, message_id: str) -> str:
    from msglog import keys

    # The gsi3 sort key is the send time since the purge was built; the message id before.
    builder = getattr(keys, "body_due_sk", None)
    return builder(sent_at, message_id) if builder else message_id


def _messages(tenant: str, now: datetime, rng: random.Random) -> list[dict[str, Any]]:
    """Message and body items, the due ones first."""
    from msglog import keys
    from msglog.clock import iso
    from msglog.ids import new_ulid
    from msglog.models import Message, MessageBody

    items = []
    due = int(BODIES * DUE_SHARE)
    for n in range(BODIES):
        days = rng.uniform(30 * 31, 34 * 31) if n < due else rng.uniform(1, 20 * 30)
        sent = now - timedelta(days=days)
        mid, sent_at = new_ulid(sent), iso(sent)
        shard = keys.shard_of(mid, FEED_SHARDS)
        items.append(Message(keys.message_pk(tenant, mid), keys.META_SK, message_id=mid, channel="email",
                             subject="Missing assignment: Algebra worksheet 4.", created_at=sent_at, status="sent",
                             gsi1pk=keys.sent_feed_pk(tenant, shard), gsi1sk=mid).serialize())
        items.append(MessageBody(keys.message_pk(tenant, mid), keys.BODY_SK, message_id=mid, text=TEXT,
                                 html=f"<p>{TEXT}</p>", gsi3pk=keys.body_due_pk(tenant, shard),
                                 gsi3sk=_due_sort_key(sent_at, mid)).serialize())
    return items


def _cutoff(now: datetime) -> str:
    from msglog.clock import iso

    return iso(now - timedelta(days=RETENTION_MONTHS * 365.25 / 12))


def _service_purge(aws: LocalAws, now: datetime) -> PurgeRun:
    try:
        from msglog import purge
    except ImportError:
        purge = None
    if purge is not None and "PurgeFunction" in aws.envs:
        with METER.window() as window:
            answer = aws.gateway.runtime.invoke("PurgeFunction", {"tenant": TENANT, "batch_size": 100})
        return PurgeRun("service: msglog.purge (PurgeFunction, one tenant)", int(answer["purged"]),
                        measure(window, aws.read_items), how="PurgeFunction")
    return _design_read(aws, now)


def _design_read(aws: LocalAws, now: datetime) -> PurgeRun:
    """No purge yet: the reads the design promises, one gsi3 Query per shard up to the cutoff."""
    from msglog import keys
    from msglog.models import MessageBody

    found = 0
    with METER.window() as window:
        for shard in range(FEED_SHARDS):
            found += sum(1 for _ in MessageBody.gsi3.query(keys.body_due_pk(TENANT, shard),
                                                            MessageBody.gsi3sk < _due_sort_key(_cutoff(now), "")))
    return PurgeRun("design: gsi3 Query per shard up to the cutoff (no purge built yet)", found,
                    measure(window, aws.read_items), how="design")


def _scan_peer(aws: LocalAws, now: datetime) -> PurgeRun:
    """Scan everything, keep this tenant's due bodies, purge each like the service does."""
    import boto3
    from boto3.dynamodb.conditions import Attr

    table = boto3.resource("dynamodb").Table(aws.table)
    due = (Attr("type").eq("body") & Attr("pk").begins_with(f"T#{TENANT}#")
           & Attr("gsi3sk").lt(_due_sort_key(_cutoff(now), "")))
    purged = 0
    with METER.window() as window:
        page: dict[str, Any] = {"FilterExpression": due}
        while True:
            answer = table.scan(**page)
            for body in answer["Items"]:
                table.update_item(Key={"pk": body["pk"], "sk": "META"}, UpdateExpression="SET body_purged_at = :at",
                                  ExpressionAttributeValues={":at": now.isoformat()})
                table.delete_item(Key={"pk": body["pk"], "sk": body["sk"]})
                purged += 1
            if "LastEvaluatedKey" not in answer:
                break
            page["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    work = measure(window, aws.read_items)
    return PurgeRun("naive peer: Scan with a filter", purged, work, table_items=work.items_read, how="Scan")


def run(aws: LocalAws, progress: Callable[[str], None]) -> tuple[PurgeRun, PurgeRun, int]:
    now = datetime.now(UTC)
    items = _messages(TENANT, now, random.Random(5))
    due = int(BODIES * DUE_SHARE)
    progress(f"  loading {BODIES:,} messages with bodies ...")
    aws.write_items(items)
    service = _service_purge(aws, now)
    aws.write_items(items[:2 * due])  # the due messages and bodies again, as they were: the peer's work
    peer = _scan_peer(aws, now)
    return service, peer, due
