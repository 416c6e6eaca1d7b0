"""Nothing acknowledged is lost: a verified webhook request that cannot be stored right now
(DynamoDB throttling that outlasted the retries, an outage) is parked raw in S3 and answered
202; `replay` stores it later, idempotently. Only if parking fails too does the provider get a
5xx (and retry).

A parked request keeps what is needed to read it again — body, content type, URL — never its
credentials or signature headers: it was verified before it was parked, and the bucket is ours.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from msglog.clock import iso, now
from msglog.config import config
from msglog.ids import new_ulid
from msglog.providers import WebhookRequest

PREFIX = "parked/"


def park(tenant: str, provider: str, request: WebhookRequest, request_id: str | None) -> str:
    from msglog.aws import client

    key = f"{PREFIX}{tenant}/{provider}/{new_ulid()}.json"
    document = {
        "tenant": tenant, "provider": provider, "request_id": request_id, "parked_at": iso(now()),
        "url": request.url, "content_type": request.headers.get("content-type", ""),
        "body": base64.b64encode(request.body).decode(),
    }
    client("s3").put_object(Bucket=config().parked_bucket, Key=key, Body=json.dumps(document).encode(),
                            ContentType="application/json", ServerSideEncryption="AES256")
    return key


def parked(limit: int) -> list[str]:
    from msglog.aws import client

    listed = client("s3").list_objects_v2(Bucket=config().parked_bucket, Prefix=PREFIX, MaxKeys=limit)
    return [item["Key"] for item in listed.get("Contents", [])]


def take(key: str) -> dict[str, Any]:
    """A parked request: tenant, provider, request id and the WebhookRequest to read again."""
    from msglog.aws import client

    document = json.loads(client("s3").get_object(Bucket=config().parked_bucket, Key=key)["Body"].read())
    request = WebhookRequest(body=base64.b64decode(document["body"]), url=document["url"],
                             headers={"content-type": document["content_type"]})
    return {"tenant": document["tenant"], "provider": document["provider"],
            "request_id": document["request_id"], "request": request}


def done(key: str) -> None:
    from msglog.aws import client

    client("s3").delete_object(Bucket=config().parked_bucket, Key=key)
