"""POST /v1/webhooks/{provider}/{tenant_id}: no JWT; the provider's signature proves the tenant."""

import base64
from typing import Any

from msglog import webhooks
from msglog.config import config
from msglog.errors import PayloadTooLarge
from msglog.http import create_app, entrypoint, logger, metrics
from msglog.providers import WebhookRequest

app = create_app()
MAX_BODY_BYTES = 5 * 1024 * 1024


def _request() -> WebhookRequest:
    event = app.current_event
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


@app.post("/v1/webhooks/<provider>/<tenant_id>")
def receive(provider: str, tenant_id: str) -> tuple[dict[str, Any], int]:
    logger.append_keys(tenant_id=tenant_id, provider=provider)
    result, status = webhooks.receive(provider, tenant_id, _request(), app.current_event.request_context.request_id)
    for code, count in result["outcomes"].items():
        metrics.add_metric(name=code, unit="Count", value=count)
    logger.info("webhook stored" if status == 200 else "webhook parked",
                extra={"received": result["received"], "outcomes": result["outcomes"]})
    return result, status


handler = entrypoint(app, api_log=False, json_only=False)  # providers post forms and text too
