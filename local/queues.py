"""What Lambda's SQS event sources do, locally: read the queues that template.yaml's functions have
an `SQS` event for, and invoke those functions with the messages, as Lambda would.

`Pump.drain()` delivers until the queues are empty (the tests call it: deterministic, no waiting);
`Poller` runs the pump in a background thread for `make run`. Like the event source, the pump
deletes the messages a batch handled, and leaves the ones it reports as failed (or the whole batch,
if the function raised) to be received again — locally at once rather than after the queue's
visibility timeout; the queue's redrive policy (moto) moves a message to its dead-letter queue
after maxReceiveCount receives, as SQS does.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from local.environments import Environments
from local.provision import physical_name
from local.runtime import Runtime
from local.template import ACCOUNT_ID, REGION, QueueEvent, queue_events

log = logging.getLogger("local.queues")
MAX_ROUNDS = 1_000  # drain(): a function that keeps queueing work for itself stops here


class Pump:
    def __init__(self, runtime: Runtime | Environments, session: Any | None = None,
                 functions: frozenset[str] | None = None):
        """`functions`: only the queues of these functions (default: every queue)."""
        import boto3

        self.runtime = runtime
        self.sqs = (session or boto3.Session()).client("sqs")
        self.sources = [s for s in queue_events() if functions is None or s.function in functions]
        self.invocations = 0  # batches handed to functions
        self._urls: dict[str, str] = {}

    def _url(self, source: QueueEvent) -> str:
        if source.queue not in self._urls:
            self._urls[source.queue] = self.sqs.get_queue_url(QueueName=physical_name(source.queue))["QueueUrl"]
        return self._urls[source.queue]

    def once(self) -> int:
        """One batch from each queue that has messages; how many messages were delivered."""
        delivered = 0
        for source in self.sources:
            url = self._url(source)
            received = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(source.batch_size, 10),
                                                AttributeNames=["All"], MessageAttributeNames=["All"],
                                                WaitTimeSeconds=0).get("Messages", [])
            if received:
                self._deliver(source, url, received)
                delivered += len(received)
        return delivered

    def drain(self) -> int:
        """Deliver until every queue is empty; how many messages (deliveries, retries included)."""
        total = 0
        for _ in range(MAX_ROUNDS):
            delivered = self.once()
            if not delivered:
                return total
            total += delivered
        raise RuntimeError(f"the queues are still not empty after {MAX_ROUNDS} batches")

    def _deliver(self, source: QueueEvent, url: str, messages: list[dict[str, Any]]) -> None:
        queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{physical_name(source.queue)}"
        event = {"Records": [_record(message, queue_arn) for message in messages]}
        self.invocations += 1
        try:
            result = self.runtime.invoke(source.function, event)
        except Exception:  # the whole batch failed: every message is received again
            log.exception("function %s failed", source.function)
            failed = {message["MessageId"] for message in messages}
        else:
            failed = {item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])} \
                if source.reports_item_failures else set()
        for message in messages:
            if message["MessageId"] in failed:
                self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"],
                                                   VisibilityTimeout=0)
            else:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda hands it over (camelCase attributes, the queue's ARN)."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", str(int(time.time() * 1000))),
            "SenderId": attributes.get("SenderId", ACCOUNT_ID),
            "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp",
                                                               str(int(time.time() * 1000))),
        },
        "messageAttributes": {name: {"stringValue": value.get("StringValue"), "dataType": value.get("DataType")}
                              for name, value in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": REGION,
    }


class Poller:
    """`make run`: the pump in a background thread, every `interval` seconds while the queues are empty."""

    def __init__(self, pump: Pump, interval: float = 0.5):
        self.pump, self.interval = pump, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqs-poller", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """No new batch; one in flight is not waited for (the runtime's close ends its invocation)."""
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                delivered = self.pump.once()
            except Exception:  # moto stopping under us, a function's bug: keep polling
                if self._stop.is_set():  # the stack is stopping: what failed is the stopping
                    return
                log.warning("polling the queues failed", exc_info=True)
                delivered = 0
            if not delivered:
                self._stop.wait(self.interval)
