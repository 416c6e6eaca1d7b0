"""Operator commands (no route): onboard a tenant, link customer tenants, backfill an index or counts, recover a window.

Event: {"command": "onboard-tenant", "tenant": "...", "time_zone": "...", ...} or
{"command": "link-customers" | "unlink-customers", "enterprise": "...", "customers": [...]} or
{"command": "index-sent-sorts" | "index-sends" | "count-messages", "tenant": "...", "limit": 1000,
 "after": <the previous answer's next>}
or {"command": "recover", "tenant": "...", "provider": "mailgun", "from": "<ISO 8601>", "to": "<ISO 8601>"}.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from msglog import operations
from msglog.errors import DomainError
from msglog.problems import field_errors
from msglog.telemetry import logger, tracer


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        result = operations.run(event, time_left=context.get_remaining_time_in_millis)
    except ValidationError as error:
        return {"error": "the command is not valid",
                "fields": [{"field": e.field, "message": e.message} for e in field_errors(error.errors())]}
    except DomainError as error:  # refused as the API would refuse it (an SNS quota, no API credentials)
        return {"error": error.detail, "code": error.code,
                "fields": [{"field": e.field, "message": e.message} for e in error.errors]}
    logger.info("operator command done", extra={"command": event.get("command")})
    return result
