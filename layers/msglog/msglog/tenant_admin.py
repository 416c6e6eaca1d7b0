"""Tenant administration: changing a tenant's settings and its provider credentials, each change
audited (msglog.audit). Apart from msglog.tenants, which every path reads, because the audit log's
writer sits above the views while the settings sit below everything."""

from __future__ import annotations

import json
from typing import Any

from msglog import alerts, audit, keys, tenants
from msglog.auth import Caller
from msglog.aws import client
from msglog.clock import iso, now
from msglog.config import config
from msglog.models import ProviderApiCredentials, ProviderCredentials, TenantSettings


def update_settings(caller: Caller, changes: dict[str, Any]) -> TenantSettings:
    item = change_settings(caller.tenant, caller.sub, changes)
    audit.record(caller.tenant, actor=caller.sub, action="tenant.settings_changed", entity="tenant",
                 details={name: str(value) for name, value in changes.items()})
    return item


def change_settings(tenant: str, actor: str, changes: dict[str, Any]) -> TenantSettings:
    """Save `changes` to the tenant's settings (PATCH /v1/tenant, the operator's onboarding; each caller
    audits its own action): the alert address subscribed before, the old one released after."""
    item = tenants.settings(tenant, fresh=True)
    previous = alerts.readdress(tenant, item, changes.get("alert_email"))  # subscribed before it is saved
    for name, value in changes.items():
        setattr(item, name, value)
    item.updated_at, item.updated_by = iso(now()), actor
    item.save()
    tenants.forget(tenant)
    alerts.release(tenant, previous)
    tenants.register(tenant)
    return item


def put_credentials(caller: Caller, provider: str, secret: dict[str, Any], *, keep_previous: bool,
                    topic_arns: list[str] | None = None, name: str | None = None) -> ProviderCredentials:
    """Store `secret` as the provider's current credentials; with keep_previous the old ones stay
    accepted too (key rotation: both verify until the next change). `name`: the gateway name the logs
    show (None keeps the one given before: a key rotation need not repeat it)."""
    versions = [secret]
    if keep_previous:
        versions += (tenants.credentials(caller.tenant, provider, fresh=True) or [])[:1]
    blob = client("kms").encrypt(
        KeyId=config().provider_key_id,
        Plaintext=json.dumps({"versions": versions}).encode(),
        EncryptionContext=tenants.encryption_context(caller.tenant, provider),
    )["CiphertextBlob"]
    if name is None:
        name = _gateway_name(caller.tenant, provider)
    item = ProviderCredentials(
        keys.tenant_pk(caller.tenant), keys.provider_sk(provider), provider=provider, name=name, ciphertext=blob,
        key_count=len(versions), topic_arns=set(topic_arns) if topic_arns else None,
        updated_at=iso(now()), updated_by=caller.sub,
    )
    item.save()
    tenants.forget(caller.tenant, provider)
    tenants.register(caller.tenant)
    audit.record(caller.tenant, actor=caller.sub, action="provider.credentials_changed", entity=f"provider:{provider}",
                 details={"keys": len(versions), "kept_previous": keep_previous,  # never the secret itself
                          **({"name": name} if name else {})})
    return item


def put_api_credentials(caller: Caller, provider: str, secret: dict[str, Any]) -> ProviderApiCredentials:
    """Store `secret` as the credentials the service calls the provider's API with (refresh, recovery).
    Rotation is a replacement: only the service uses them, so the old key can be revoked at the provider
    as soon as this answers."""
    blob = client("kms").encrypt(
        KeyId=config().provider_key_id, Plaintext=json.dumps(secret).encode(),
        EncryptionContext=tenants.api_encryption_context(caller.tenant, provider),
    )["CiphertextBlob"]
    item = ProviderApiCredentials(keys.tenant_pk(caller.tenant), keys.provider_api_sk(provider), provider=provider,
                                  ciphertext=blob, updated_at=iso(now()), updated_by=caller.sub)
    item.save()
    tenants.register(caller.tenant)
    audit.record(caller.tenant, actor=caller.sub, action="provider.api_credentials_changed",
                 entity=f"provider:{provider}", details={"fields": ",".join(sorted(secret))})  # names, never values
    return item


def _gateway_name(tenant: str, provider: str) -> str | None:
    try:
        return ProviderCredentials.get(keys.tenant_pk(tenant), keys.provider_sk(provider),
                                       attributes_to_get=["name"]).name
    except ProviderCredentials.DoesNotExist:
        return None
