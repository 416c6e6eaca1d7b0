"""POST /v1/webhooks/{provider}/{tenant_id}: no JWT; the provider's signature proves the tenant.

The function has this one route, so it answers without a resolver: powertools' event handler
with validation (and pydantic) would add about 250 ms to every cold start of the busiest function.
"""

import base64
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from msglog import problems, webhooks
from msglog.config import config
from msglog.errors import PayloadTooLarge
from msglog.providers import WebhookRequest
from msglog.telemetry import logger, metrics, tracer

MAX_BODY_BYTES = 5 * 1024 * 1024


def _request(event: dict[str, Any]) -> WebhookRequest:
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"webhook bodies are limited to {MAX_BODY_BYTES} bytes")
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    context = event.get("requestContext") or {}
    base = config().public_base_url or f"https://{context.get('domainName') or headers.get('host', '')}"
    query = event.get("rawQueryString") or ""
    url = f"{base.rstrip('/')}{event.get('rawPath') or ''}" + (f"?{query}" if query else "")
    return WebhookRequest(body=body, headers=headers, url=url)


def receive(event: dict[str, Any]) -> dict[str, Any]:
    path = event.get("pathParameters") or {}
    provider, tenant_id = str(path.get("provider", "")), str(path.get("tenant_id", ""))
    request_id = (event.get("requestContext") or {}).get("requestId")
    logger.append_keys(tenant_id=tenant_id, provider=provider)
    try:
        result, status = webhooks.receive(provider, tenant_id, _request(event), request_id)
    except Exception as error:  # noqa: BLE001 - every failure becomes its problem+json answer
        document = problems.for_error(webhooks.answer_for(provider, error), request_id)
        return problems.answer(document["status"], document, problems.PROBLEM)
    for code, count in result["outcomes"].items():
        metrics.add_metric(name=code, unit="Count", value=count)
    logger.info("webhook stored" if status == 200 else "webhook parked",
                extra={"received": result["received"], "outcomes": result["outcomes"]})
    return problems.answer(status, result)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False,
                              clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return receive(event)

