"""The ingestion-health check (EventBridge Scheduler, every 15 minutes; operators: README, Operations).

Event: {"dry_run": false, "tenant": "<id>", "now": "<ISO 8601>", "history_days": 14,
"grace_hours": 2, "min_active_hours": 24, "min_events": 100} (all optional). Answer: how many
pairs it checked, the incidents it opened, found ongoing or closed, and errors; `complete: false`
when it stopped before the Lambda's time ran out or a check failed (the next run goes on).
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from msglog import ingestion_health
from msglog.telemetry import logger, metrics, tracer


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    options = ingestion_health.options(event)
    result = ingestion_health.run(options, time_left=context.get_remaining_time_in_millis)
    if options.dry_run:
        metrics.add_metric(name="SilentPairsInDryRun", unit="Count", value=result["opened"])
    else:
        metrics.add_metric(name="NoWebhookAlerts", unit="Count", value=result["opened"])
        metrics.add_metric(name="IngestionRecoveries", unit="Count", value=result["recovered"])
    metrics.add_metric(name="OpenIngestionIncidents", unit="Count", value=result["opened"] + result["ongoing"])
    metrics.add_metric(name="IngestionHealthErrors", unit="Count", value=result["errors"])
    metrics.add_metric(name="IngestionHealthRunsIncomplete", unit="Count", value=0 if result["complete"] else 1)
    logger.info("ingestion health run", extra={k: v for k, v in result.items() if k != "incidents"})
    return result
