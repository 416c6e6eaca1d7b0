"""Runs CSV export jobs from the ExportJobs queue (msglog.exports; README, "Exports").

Event: SQS, one message per job run, {"tenant", "export_id"}. Each message is processed by
powertools' batch processor: a run that fails is reported as that message's failure, so SQS
retries it (after the visibility timeout) without redelivering the others; on the queue's last
attempt the job is marked failed, and the message then goes to the ExportJobsDeadLetters queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from msglog import exports
from msglog.config import config
from msglog.telemetry import logger, metrics, tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> str:
    attempt = int(record.attributes.approximate_receive_count or 1)
    outcome = exports.run(record.json_body, message_id=record.message_id,
                          time_left=lambda_context.get_remaining_time_in_millis,
                          last_attempt=attempt >= config().export_max_receives)
    logger.info("export run", extra={"outcome": outcome, "attempt": attempt})
    return outcome


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
