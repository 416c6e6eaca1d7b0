"""The single writer of deliveries' status, from the StatusChanges FIFO queue (msglog.status_writer).

Event: SQS FIFO, up to 10 messages, each one group's changes from one request. The whole batch is
applied at once — one BatchGetItem and BatchWriteItem for all its deliveries, which is the point of
the queue — so it succeeds or fails as one (powertools' SqsFifoPartialProcessor takes one record at
a time, which would give back the batching). A message that is not a change list is reported failed
alone — changes apply in any order, so the others need not wait for it — and after ten receives it
waits in StatusChangesDeadLetters.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from msglog import status_writer
from msglog.telemetry import logger, metrics, tracer


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records") or []
    changes: list[status_writer.Change] = []
    failed: list[dict[str, str]] = []
    for record in records:
        try:
            changes += status_writer.read(record.get("body") or "")
        except ValueError:
            logger.error("not a status change message", extra={"message_id": record.get("messageId")})
            failed.append({"itemIdentifier": record.get("messageId", "")})
    written = status_writer.apply(changes)
    metrics.add_metric(name="StatusesWritten", unit="Count", value=written)
    logger.info("status changes applied", extra={"messages": len(records) - len(failed), "changes": len(changes),
                                                 "written": written})
    return {"batchItemFailures": failed}
