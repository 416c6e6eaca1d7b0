"""Tenant settings and provider credentials.

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

from msglog import alerts, audit, keys
from msglog.auth import Caller
from msglog.clock import iso, now
from msglog.config import config
from msglog.models import ProviderCredentials, RegisteredTenant, TenantSettings, condition_failed
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
        item = TenantSettings(keys.tenant_pk(tenant), keys.SETTINGS_SK, tenant_id=tenant, feed_shards=keys.DEFAULT_FEED_SHARDS)
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


def update_settings(caller: Caller, changes: dict[str, Any]) -> TenantSettings:
    item = settings(caller.tenant, fresh=True)
    previous = alerts.readdress(caller.tenant, item, changes.get("alert_email"))  # subscribed before it is saved
    for name, value in changes.items():
        setattr(item, name, value)
    item.updated_at, item.updated_by = iso(now()), caller.sub
    item.save()
    _settings_cache.pop(caller.tenant, None)
    alerts.release(caller.tenant, previous)
    register(caller.tenant)
    audit.record(caller.tenant, actor=caller.sub, action="tenant.settings_changed", entity="tenant",
                 details={name: str(value) for name, value in changes.items()})
    return item


def _context(tenant: str, provider: str) -> dict[str, str]:
    return {"tenant_id": tenant, "provider": provider}


def put_credentials(caller: Caller, provider: str, secret: dict[str, Any], *, keep_previous: bool,
                    topic_arns: list[str] | None = None, name: str | None = None) -> ProviderCredentials:
    """Store `secret` as the provider's current credentials; with keep_previous the old ones stay
    accepted too (key rotation: both verify until the next change). `name`: the gateway name the logs
    show (None keeps the one given before: a key rotation need not repeat it)."""
    from msglog.aws import client

    versions = [secret]
    if keep_previous:
        versions += (credentials(caller.tenant, provider, fresh=True) or [])[:1]
    blob = client("kms").encrypt(
        KeyId=config().provider_key_id,
        Plaintext=json.dumps({"versions": versions}).encode(),
        EncryptionContext=_context(caller.tenant, provider),
    )["CiphertextBlob"]
    if name is None:
        name = _gateway_name(caller.tenant, provider)
    item = ProviderCredentials(
        keys.tenant_pk(caller.tenant), keys.provider_sk(provider), provider=provider, name=name, ciphertext=blob,
        key_count=len(versions), topic_arns=set(topic_arns) if topic_arns else None,
        updated_at=iso(now()), updated_by=caller.sub,
    )
    item.save()
    _credentials_cache.pop((caller.tenant, provider), None)
    register(caller.tenant)
    audit.record(caller.tenant, actor=caller.sub, action="provider.credentials_changed", entity=f"provider:{provider}",
                 details={"keys": len(versions), "kept_previous": keep_previous,  # never the secret itself
                          **({"name": name} if name else {})})
    return item


def _gateway_name(tenant: str, provider: str) -> str | None:
    try:
        return ProviderCredentials.get(keys.tenant_pk(tenant), keys.provider_sk(provider),
                                       attributes_to_get=["name"]).name
    except ProviderCredentials.DoesNotExist:
        return None


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
        CiphertextBlob=item.ciphertext, EncryptionContext=_context(tenant, provider)
    )["Plaintext"]
    versions = json.loads(plaintext)["versions"]
    _credentials_cache[(tenant, provider)] = (time.monotonic() + CREDENTIALS_TTL_SECONDS, versions)
    return versions


def configured_providers(tenant: str) -> list[ProviderCredentials]:
    return list(ProviderCredentials.query(keys.tenant_pk(tenant), ProviderCredentials.sk.startswith("PROVIDER#")))


@after_restore
def _forget_tenants() -> None:
    # Expiries are monotonic times of the snapshotted process; the entries may be stale by now.
    _settings_cache.clear()
    _credentials_cache.clear()
