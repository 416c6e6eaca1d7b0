"""boto3 clients, created on first use (not at import: cold start) and reused afterwards."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str, region: str | None = None) -> Any:
    import boto3  # deferred: only the functions that call AWS beyond DynamoDB pay for it

    return boto3.client(service, region_name=region)
