"""AWS clients beyond DynamoDB, created on first use (not at import: cold start) and reused.

They are made from the botocore session that pynamodb's DynamoDB client already lives in, so they
share its loaded endpoint and credential data: a client from a new session (boto3's default one
included) reloads it, which costs about 100 ms per client on a cold start (bench/RESULTS.md).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from msglog.snapstart import after_restore


@cache
def client(service: str, region: str | None = None, signature_version: str | None = None) -> Any:
    """`signature_version="s3v4"`: a client whose presigned links every region accepts."""
    from msglog.models import Entity

    connection = Entity._get_connection().connection
    options: dict[str, Any] = {}
    if signature_version:
        from botocore.config import Config

        options["config"] = Config(signature_version=signature_version)
    return connection.session.create_client(service, region_name=region or Entity.Meta.region, **options)


@cache
def calling_once(service: str) -> Any:
    """A client that calls once within the provider APIs' timeouts (msglog.provider_apis): a 429 or a
    failure is the caller's to report, not botocore's to retry. Its endpoint may be moved with botocore's
    own AWS_ENDPOINT_URL_<SERVICE> (the local fakes: moto lacks SES's account suppression list)."""
    from botocore.config import Config

    from msglog.models import Entity

    config = Config(connect_timeout=3, read_timeout=8, retries={"total_max_attempts": 1, "mode": "standard"})
    return Entity._get_connection().connection.session.create_client(service, region_name=Entity.Meta.region,
                                                                     config=config)


@after_restore
def _forget_clients() -> None:
    # Clients hold the credentials resolved before the snapshot: a restored copy resolves its own.
    client.cache_clear()
    calling_once.cache_clear()


reset = _forget_clients  # tests: a fresh container makes its own clients
