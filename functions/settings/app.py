"""Who the caller is (any valid token); tenant settings and provider credentials (right: admin)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from msglog import auth, tenant_admin, tenants
from msglog.errors import BadRequest, FieldError
from msglog.http import caller, create_app, entrypoint, parse
from msglog.schemas import CREDENTIALS, Provider, Rotation, TenantPatch

app = create_app()


def _settings(item: Any) -> dict[str, Any]:
    return {
        "tenant_id": item.tenant_id,
        "name": item.name,
        "retention_months": item.retention_months,
        "privacy_mode": item.privacy_mode,
        "time_zone": item.time_zone,
        "alert_email": item.alert_email,
        "log_retention_days": item.log_retention_days,
        "sms_stuck_minutes": item.sms_stuck_minutes,
        "customers": sorted(item.customers or ()),
        "logging_policy": _policy(item.logging_policy),
        "updated_at": item.updated_at,
        "updated_by": item.updated_by,
        "providers": _providers(item.tenant_id),
    }


def _providers(tenant: str) -> dict[str, Any]:
    """Per provider: its webhook credentials (how many keys) and whether API credentials are set — never a secret."""
    shown: dict[str, Any] = {p.provider: {"name": p.name, "keys": p.key_count, "updated_at": p.updated_at}
                             for p in tenants.configured_providers(tenant)}
    for api in tenants.configured_apis(tenant):
        shown.setdefault(api.provider, {"name": None, "keys": 0, "updated_at": None})["api"] = {
            "set": True, "updated_at": api.updated_at}
    return shown


def _policy(stored: Any) -> dict[str, list[str]]:
    value = stored.as_dict() if hasattr(stored, "as_dict") else dict(stored or {})
    return {name: list(value.get(name) or []) for name in ("internal_domains", "ignore_addresses",
                                                          "ignore_subject_patterns")}


@app.get("/v1/me")
def get_me() -> dict[str, Any]:
    """What a front end needs before its first screen: whose tenant, its time zone, and the views
    the caller's rights open."""
    who = caller(app)
    item = tenants.settings(who.tenant)
    return {"tenant_id": who.tenant, "tenant_name": item.name or who.tenant, "time_zone": item.time_zone or "UTC",
            "sub": who.sub, "name": who.name, "rights": sorted(who.rights), "org_units": sorted(who.org_units),
            "views": auth.views(who)}


@app.get("/v1/tenant")
def get_tenant() -> dict[str, Any]:
    who = caller(app)
    who.require("admin")
    return _settings(tenants.settings(who.tenant, fresh=True))


@app.patch("/v1/tenant")
def patch_tenant(changes: Annotated[TenantPatch, Body()]) -> dict[str, Any]:
    who = caller(app)
    who.require("admin")
    return _settings(tenant_admin.update_settings(who, changes.model_dump(exclude_unset=True, exclude_none=True)))


@app.put("/v1/providers/<provider>")
def put_provider(provider: Annotated[Provider, Path()], body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    who = caller(app)
    who.require("admin")
    credentials = parse(CREDENTIALS[provider], body)
    missing: list[str] = credentials.missing() if isinstance(credentials, Rotation) else []
    if missing:
        raise BadRequest("the request is not valid", [FieldError(name, "is required (or give api)")
                                                      for name in missing])
    given = credentials.model_dump(exclude_none=True)
    api = given.pop("api", None)
    keep_previous = bool(given.pop("keep_previous", False))
    name = given.pop("name", None)  # not a secret: kept in clear beside them
    answer: dict[str, Any] = {"provider": provider}
    if api:  # first: a body that also rotates the webhook's credentials is refused whole if this fails
        stored = tenant_admin.put_api_credentials(who, provider, api)
        answer["api"] = {"set": True, "updated_at": stored.updated_at}
    if given or not api:
        item = tenant_admin.put_credentials(who, provider, given, keep_previous=keep_previous,
                                            topic_arns=given.get("topic_arns"), name=name)
        answer |= {"name": item.name, "keys": item.key_count, "updated_at": item.updated_at,
                   "updated_by": item.updated_by}
    return answer


handler = entrypoint(app)
