"""The single writer of deliveries' status, from the StatusChanges FIFO queue (msglog.statuses).

Event: SQS FIFO, up to 10 messages, each one group's changes from one request. The whole batch is
applied at once — one BatchGetItem and BatchWriteItem for all its deliveries, which is the point of
the queue — so it succeeds or fails as one: FIFO order only lets Lambda redeliver the messages from
the first failure on (powertools' SqsFifoPartialProcessor takes one record at a time, which would
give back the batching). A message that is not a change list is reported failed with those after it;
after ten receives it waits in StatusChangesDeadLetters.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from msglog import statuses
from msglog.telemetry import logger, metrics, tracer


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records") or []
    changes: list[statuses.Change] = []
    failed: list[dict[str, str]] = []
    for number, record in enumerate(records):
        try:
            sent = (record.get("attributes") or {}).get("SentTimestamp")
            changes += statuses.read(record.get("body") or "", int(sent) if sent else None)
        except ValueError:
            logger.error("not a status change message", extra={"message_id": record.get("messageId")})
            failed = [{"itemIdentifier": r.get("messageId", "")} for r in records[number:]]
            break
    written = statuses.apply(changes)
    metrics.add_metric(name="StatusesWritten", unit="Count", value=written)
    logger.info("status changes applied", extra={"messages": len(records) - len(failed), "changes": len(changes),
                                                 "written": written})
    return {"batchItemFailures": failed}
