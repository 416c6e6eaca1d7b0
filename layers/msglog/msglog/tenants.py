"""Tenant settings and provider credentials, as every path reads them (cached in the function).
Changing them is tenant administration (msglog.tenant_admin).

Credentials are encrypted with the service's KMS key, the tenant and provider as encryption
context (a ciphertext copied to another tenant's item does not decrypt), and kept in the
tenant's partition: one KMS key for every tenant instead of a Secrets Manager secret each.
Decrypted credentials are cached in the function for a minute.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from pynamodb.exceptions import PutError

from msglog import keys
from msglog.clock import iso, now
from msglog.models import (
    ProviderApiCredentials,
    ProviderCredentials,
    RegisteredTenant,
    TenantSettings,
    condition_failed,
)
from msglog.snapstart import after_restore

SETTINGS_TTL_SECONDS = 60
CREDENTIALS_TTL_SECONDS = 60
_settings_cache: dict[str, tuple[float, TenantSettings]] = {}
_credentials_cache: dict[tuple[str, str], tuple[float, list[dict[str, Any]]]] = {}
_registered: set[str] = set()  # tenants this container has put in the registry already


def settings(tenant: str, *, fresh: bool = False) -> TenantSettings:
    """The tenant's settings (defaults when it never changed any)."""
    cached = _settings_cache.get(tenant)
    if cached and cached[0] > time.monotonic() and not fresh:
        return cached[1]
    try:
        item = TenantSettings.get(keys.tenant_pk(tenant), keys.SETTINGS_SK)
    except TenantSettings.DoesNotExist:
        item = TenantSettings(
            keys.tenant_pk(tenant), keys.SETTINGS_SK, tenant_id=tenant, feed_shards=keys.DEFAULT_FEED_SHARDS
        )
    _settings_cache[tenant] = (time.monotonic() + SETTINGS_TTL_SECONDS, item)
    return item


def display_name(tenant: str) -> str:
    """How a tenant is shown to another (an enterprise's linked customers): its name (PATCH /v1/tenant), else its id."""
    return settings(tenant).name or tenant


def feed_shards(tenant: str) -> int:
    return int(settings(tenant).feed_shards or keys.DEFAULT_FEED_SHARDS)


def register(tenant: str) -> None:
    """Put the tenant in the registry the scheduled jobs list (pattern 18b): one conditional put per
    container and tenant, so the registry's single key sees a trickle of writes, not one per message."""
    if tenant in _registered:
        return
    try:
        RegisteredTenant(keys.TENANTS_PK, keys.tenant_registry_sk(tenant), tenant_id=tenant,
                         registered_at=iso(now())).save(condition=RegisteredTenant.pk.does_not_exist())
    except PutError as error:
        if not condition_failed(error):
            raise
    _registered.add(tenant)


def registered(start: str = "") -> Iterator[str]:
    """Every registered tenant once: from `start` to the end, then from the beginning up to `start`."""
    yield from (t.tenant_id for t in RegisteredTenant.query(keys.TENANTS_PK, RegisteredTenant.sk >= start))
    if start:
        yield from (t.tenant_id for t in RegisteredTenant.query(keys.TENANTS_PK, RegisteredTenant.sk < start))


def encryption_context(tenant: str, provider: str) -> dict[str, str]:
    return {"tenant_id": tenant, "provider": provider}


def forget(tenant: str, provider: str | None = None) -> None:
    """Drop this function's cached copy of the tenant's settings (or of one provider's credentials): changed."""
    if provider is None:
        _settings_cache.pop(tenant, None)
    else:
        _credentials_cache.pop((tenant, provider), None)


def credentials(tenant: str, provider: str, *, fresh: bool = False) -> list[dict[str, Any]] | None:
    """The provider credentials of the tenant, current first; None if it has none (unknown tenant)."""
    cached = _credentials_cache.get((tenant, provider))
    if cached and cached[0] > time.monotonic() and not fresh:
        return cached[1]
    try:
        item = ProviderCredentials.get(keys.tenant_pk(tenant), keys.provider_sk(provider))
    except ProviderCredentials.DoesNotExist:
        return None
    from msglog.aws import client

    plaintext = client("kms").decrypt(
        CiphertextBlob=item.ciphertext, EncryptionContext=encryption_context(tenant, provider)
    )["Plaintext"]
    versions = json.loads(plaintext)["versions"]
    _credentials_cache[(tenant, provider)] = (time.monotonic() + CREDENTIALS_TTL_SECONDS, versions)
    return versions


def configured_providers(tenant: str) -> list[ProviderCredentials]:
    return list(ProviderCredentials.query(keys.tenant_pk(tenant), ProviderCredentials.sk.startswith("PROVIDER#")))


def api_encryption_context(tenant: str, provider: str) -> dict[str, str]:
    """Not the webhook credentials' context: neither ciphertext decrypts as the other."""
    return {**encryption_context(tenant, provider), "use": "api"}


def api_credentials(tenant: str, provider: str) -> dict[str, Any] | None:
    """The tenant's credentials for the provider's API (msglog.provider_apis), or None if it gave none.
    Read fresh each time: they are used by a refresh or a recovery, not per webhook."""
    try:
        item = ProviderApiCredentials.get(keys.tenant_pk(tenant), keys.provider_api_sk(provider), consistent_read=True)
    except ProviderApiCredentials.DoesNotExist:
        return None
    from msglog.aws import client

    plaintext = client("kms").decrypt(
        CiphertextBlob=item.ciphertext, EncryptionContext=api_encryption_context(tenant, provider)
    )["Plaintext"]
    return dict(json.loads(plaintext))


def configured_apis(tenant: str) -> list[ProviderApiCredentials]:
    """The providers whose API the tenant gave credentials for (never the secrets: they stay encrypted)."""
    return list(ProviderApiCredentials.query(keys.tenant_pk(tenant),
                                             ProviderApiCredentials.sk.startswith(keys.PROVIDER_API_PREFIX)))


@after_restore
def _forget_tenants() -> None:
    # Expiries are monotonic times of the snapshotted process; the entries may be stale by now.
    _settings_cache.clear()
    _credentials_cache.clear()


def reset() -> None:
    """Forget everything this module holds, as a fresh function would (tests: each starts on a new table)."""
    _forget_tenants()
    _registered.clear()
