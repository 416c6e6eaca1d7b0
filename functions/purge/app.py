"""The retention purge (EventBridge Scheduler, hourly; operators: see README, Operations).

Event: {"dry_run": false, "batch_size": 100, "tenant": "<id>"} (all optional). Answer: what it
found and purged, per tenant; `complete: false` when it stopped before the Lambda's time ran out
or a tenant failed (the next run carries on).
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from msglog import purge
from msglog.telemetry import logger, metrics, tracer


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    options = purge.options(event)
    result = purge.run(options, time_left=context.get_remaining_time_in_millis)
    if options.dry_run:
        metrics.add_metric(name="BodiesDueInDryRun", unit="Count", value=result["found"])
    else:
        metrics.add_metric(name="BodiesPurged", unit="Count", value=result["purged"])
    metrics.add_metric(name="PurgeErrors", unit="Count", value=result["errors"])
    metrics.add_metric(name="PurgeRunsIncomplete", unit="Count", value=0 if result["complete"] else 1)
    logger.info("retention purge run", extra={k: v for k, v in result.items() if k != "by_tenant"})
    return result
