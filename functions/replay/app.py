"""Stores parked webhook requests (operators: `make replay` locally, `sam remote invoke` in AWS).

Event: {"limit": 100} (optional). Answer: {"replayed": n, "refused": r, "failed": m}; it stops
before the Lambda's time runs out (run it again for the rest).
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from msglog import webhooks
from msglog.telemetry import logger, metrics, tracer


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    limit = event.get("limit", 100) if isinstance(event, dict) else 100
    result = webhooks.replay(limit=max(1, min(int(limit), 10_000)), time_left=context.get_remaining_time_in_millis)
    metrics.add_metric(name="WebhooksReplayed", unit="Count", value=result["replayed"])
    metrics.add_metric(name="WebhooksStillParked", unit="Count", value=result["failed"])
    metrics.add_metric(name="WebhooksRefusedOnReplay", unit="Count", value=result["refused"])
    logger.info("parked webhooks replayed", extra=result)
    return result
