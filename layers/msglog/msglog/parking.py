"""Nothing acknowledged is lost: a verified webhook request that cannot be stored right now
(DynamoDB throttling that outlasted the retries, an outage) is parked raw in S3 and answered
202; `replay` stores it later, idempotently. Only if parking fails too does the provider get a
5xx (and retry).

A parked request keeps what is needed to read it again — body, content type, URL — never its
credentials or signature headers: it was verified before it was parked, and the bucket is ours.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from msglog.clock import iso, now
from msglog.config import config
from msglog.ids import new_ulid
from msglog.providers import WebhookRequest

PREFIX = "parked/"
REFUSED = "refused/"  # parked requests that storing refused for good: kept for a person to look at
MALFORMED = "malformed/"  # malformed batch items too long for the ingestion log, kept whole (never replayed)
_TRANSIENT_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
                              "InternalServerError", "ServiceUnavailable", "TransactionConflictException",
                              "RequestThrottled", "KmsThrottled"})  # the last two: SQS (status changes)
_TRANSIENT_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})


def transient(error: BaseException | None) -> bool:
    """Whether storing failed for a reason that passes (throttling, an outage, the network) —
    not for one that a replay would meet again (a bug, a value DynamoDB refuses)."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    while error is not None:
        if isinstance(error, ConnectionError | HTTPClientError):
            return True
        if isinstance(error, ClientError):
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            code = error.response.get("Error", {}).get("Code")
            if code == "TransactionCanceledException":  # transient if a write of it was: another's, throttled
                return bool(_TRANSIENT_REASONS & _cancellation_codes(error))
            return code in _TRANSIENT_CODES or status >= 500
        error = error.__cause__ or error.__context__
    return False


def _cancellation_codes(error: Any) -> set[str]:
    """Why each write of a cancelled transaction failed: pynamodb's parsed reasons, else botocore's."""
    parsed = getattr(error, "cancellation_reasons", None)
    if parsed:
        return {reason.code for reason in parsed if reason is not None}
    return {reason.get("Code") for reason in error.response.get("CancellationReasons") or []}


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


def keep(tenant: str, provider: str, raw: str) -> str:
    """Keep a malformed batch item whole; its key. Named by its content: a provider's retry writes the
    same object again, not a second one. Like parked requests, it expires with the bucket's rule."""
    from msglog.aws import client

    key = f"{MALFORMED}{tenant}/{provider}/{hashlib.sha256(raw.encode()).hexdigest()[:32]}.json"
    client("s3").put_object(Bucket=config().parked_bucket, Key=key, Body=raw.encode(),
                            ContentType="application/json", ServerSideEncryption="AES256")
    return key


def parked(page: str | None = None) -> tuple[list[str], str | None]:
    """One page of parked request keys (oldest first within a tenant), and the next page's token."""
    from msglog.aws import client

    args = {"Bucket": config().parked_bucket, "Prefix": PREFIX, "MaxKeys": 100}
    listed = client("s3").list_objects_v2(**args, **({"ContinuationToken": page} if page else {}))
    return [item["Key"] for item in listed.get("Contents", [])], listed.get("NextContinuationToken")


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


def refuse(key: str) -> None:
    """Move a parked request that can never be stored out of the way, keeping it."""
    from msglog.aws import client

    bucket = config().parked_bucket
    client("s3").copy_object(Bucket=bucket, Key=REFUSED + key.removeprefix(PREFIX),
                             CopySource={"Bucket": bucket, "Key": key}, ServerSideEncryption="AES256")
    client("s3").delete_object(Bucket=bucket, Key=key)
