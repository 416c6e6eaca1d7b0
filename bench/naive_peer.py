"""The naive peer the webhook ingest is measured against: what a first version would do.

boto3's resource API, and per event, one after the other: PutItem the event, UpdateItem its
delivery's status. No verification, no batching, no idempotency, no order-independence — the
least work a correct-looking ingest could do per event, so only the write pattern is compared.
It updates the same kind of delivery items the service keeps (recorded through the real API).
"""

from __future__ import annotations

from typing import Any

from msglog import keys
from msglog.clock import from_epoch, iso


class NaivePeer:
    def __init__(self, table_name: str) -> None:
        import boto3

        self.table = boto3.resource("dynamodb").Table(table_name)

    def ingest(self, tenant: str, events: list[dict[str, Any]]) -> None:
        for event in events:
            at = iso(from_epoch(event["timestamp"]))
            partition = keys.recipient_pk(tenant, event["email"].lower())
            self.table.put_item(Item={
                "pk": partition, "sk": f"E#{at}#{event['sg_event_id']}", "type": "event", "provider": "sendgrid",
                "event": event["event"], "timestamp": at, "recipient": event["email"],
                "message_id": event["message_id"], "response": event.get("response"),
                "provider_message_id": event.get("sg_message_id"),
            })
            self.table.update_item(
                Key={"pk": partition, "sk": keys.delivery_sk(event["message_id"])},
                UpdateExpression="SET #status = :status, last_event_at = :at",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":status": event["event"], ":at": at},
            )
