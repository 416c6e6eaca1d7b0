"""template.yaml is the single source of truth: the code, the local stack and IAM agree with it."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime, timedelta

import pytest

from local.template import ROOT, functions, http_api, load, resources, routes
from tests.support import AwsCalls, Faults, mailgun_event, reset_function_state, token

TEMPLATE = load()
FUNCTIONS = functions()
PUBLIC_ROUTES = {"GET /v1/health", "GET /v1/openapi.json", "POST /v1/webhooks/{provider}/{tenant_id}"}


def test_table_indexes_match_the_models():
    from msglog.models import Entity

    table = next(r["Properties"] for r in resources().values() if r["Type"] == "AWS::DynamoDB::Table")
    assert [k["AttributeName"] for k in table["KeySchema"]] == [Entity.pk.attr_name, Entity.sk.attr_name]
    declared = {i["IndexName"]: ([k["AttributeName"] for k in i["KeySchema"]], i["Projection"]["ProjectionType"],
                                 i["Projection"].get("NonKeyAttributes"))
                for i in table["GlobalSecondaryIndexes"]}
    modelled = {index.Meta.index_name: ([a.attr_name for a in sorted(index.Meta.attributes.values(),
                                                                     key=lambda a: not a.is_hash_key)],
                                        index.Meta.projection.projection_type,
                                        getattr(index.Meta.projection, "non_key_attributes", None))
                for index in (Entity.gsi1, Entity.gsi2, Entity.gsi3, Entity.gsi4, Entity.gsi5, Entity.gsi6, Entity.gsi7)}
    assert declared == modelled
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["TimeToLiveSpecification"] == {"AttributeName": Entity.expires_at.attr_name, "Enabled": True}


def _handler_routes(runtime, logical_id: str) -> set[str]:
    module = runtime.module(logical_id)
    app = getattr(module, "app", None)
    if app is None and hasattr(module, "openapi_app"):  # one route, answered without a resolver (webhooks)
        app = module.openapi_app()
    if app is None:  # not an HTTP function (e.g. the replay job)
        return set()
    found = set()
    for route in app._static_routes + app._dynamic_routes:
        path = re.sub(r"<(\w+)>", r"{\1}", route.openapi_path)
        for method in ([route.method] if isinstance(route.method, str) else route.method):
            found.add(f"{method.upper()} {path}")
    return found


def test_every_template_route_is_served_by_its_function_and_nothing_else(aws):
    from local.runtime import Runtime

    runtime = Runtime(aws)
    for logical_id in FUNCTIONS:
        declared = {r.key for r in routes() if r.function == logical_id}
        assert _handler_routes(runtime, logical_id) == declared, logical_id


def test_only_health_openapi_and_webhooks_skip_the_jwt_authorizer():
    assert {r.key for r in routes() if not r.authorized} == PUBLIC_ROUTES
    jwt = http_api()["Auth"]["Authorizers"]["Jwt"]["JwtConfiguration"]
    assert jwt == {"issuer": {"Ref": "JwtIssuer"}, "audience": [{"Ref": "JwtAudience"}]}
    assert http_api()["Auth"]["DefaultAuthorizer"] == "Jwt"


def test_functions_share_runtime_architecture_and_powertools_config():
    globals_ = TEMPLATE["Globals"]["Function"]
    assert (globals_["Runtime"], globals_["Architectures"], globals_["Tracing"]) == ("python3.13", ["arm64"], "Active")
    env = globals_["Environment"]["Variables"]
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"} <= set(env)
    layer = next(r for r in resources().values() if r["Type"] == "AWS::Serverless::LayerVersion")
    assert layer["Metadata"]["BuildMethod"] == "makefile" and layer["Metadata"]["BuildArchitecture"] == "arm64"
    build = (ROOT / "layers/msglog/Makefile").read_text()
    assert "build-MsgLogLayer:" in build and "aarch64" in build  # arm64 wheels
    assert "--invalidation-mode unchecked-hash" in build  # bytecode used as shipped: no compiling on cold starts
    for logical_id, resource in resources().items():
        if resource["Type"] == "AWS::Serverless::Function":
            assert not {"Runtime", "Architectures", "Layers"} & set(resource["Properties"]), logical_id


def test_layer_dependencies_are_pinned():
    lines = [line for line in (ROOT / "layers/msglog/requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines and all("==" in line for line in lines)


# ------------------------------------------------------------------ least privilege
SAM_POLICY_TEMPLATES = {"AWSSecretsManagerGetSecretValuePolicy": {"secretsmanager:GetSecretValue"}}
# Granted for paths the flow below does not take, each exercised elsewhere: a message recorded
# while a webhook for it is being stored (the webhook then links the events it parked), and an
# SES subscription confirmation (tests/api/test_webhooks.py).
RARE = {"WebhooksFunction": {"dynamodb:DeleteItem", "sns:ConfirmSubscription"},
        "ReplayFunction": {"dynamodb:DeleteItem", "sns:ConfirmSubscription", "s3:PutObject"}}


def _resource_kind(resource) -> str:
    text = str(resource)
    if "Table.Arn" in text or "'Table', 'Arn'" in text:
        return "index" if "/index/" in text else "table"
    return "other"


def allowed(logical_id: str) -> set[tuple[str, str]]:
    """(action, table|index|"") pairs the function's policies allow."""
    out = set()
    for policy in resources()[logical_id]["Properties"].get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            for statement in policy["Statement"]:
                assert statement["Effect"] == "Allow"
                targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                for action in statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]:
                    for target in targets:
                        kind = _resource_kind(target)
                        out.add((action, kind if action.startswith("dynamodb:") else ""))
        elif isinstance(policy, dict):
            for name in policy:
                out |= {(action, "") for action in SAM_POLICY_TEMPLATES[name]}
        else:
            pytest.fail(f"{logical_id}: managed policy {policy!r}; use statements or SAM policy templates")
    return out


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_no_wildcards_and_no_scans(logical_id):
    for action, _ in allowed(logical_id):
        assert "*" not in action, (logical_id, action)
        assert action != "dynamodb:Scan"
    for policy in resources()[logical_id]["Properties"].get("Policies", []):
        for statement in (policy.get("Statement", []) if isinstance(policy, dict) else []):
            assert statement["Resource"] != "*", logical_id


def test_functions_use_only_what_their_policies_allow(api_with, monkeypatch):
    """Every AWS call the functions make in a full run of the slice is allowed by their own
    policy — and every allowed action is used (nothing granted just in case)."""
    import moto.s3.models

    # export jobs in chunks of a page, one page per run, joined from parts of a few bytes (moto: as 5 MiB ones);
    # every webhook's status changes queued for the status writer (a few are otherwise updated at once)
    api = api_with(EXPORT_CHUNK_BYTES="1", EXPORT_RESERVE_SECONDS="100000", EXPORT_PART_BYTES="1",
                   STATUS_DIRECT_MAX="0")
    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", 1)
    calls = AwsCalls(monkeypatch)
    # Locally the functions share one process and its caches; in AWS each has its own. Start
    # every invocation cold, so that each call is attributed to the function that needs it.
    from local.runtime import Runtime

    invoke = Runtime.invoke
    monkeypatch.setattr(Runtime, "invoke", lambda self, *a: (reset_function_state(), invoke(self, *a))[1])
    api.get("/v1/health", auth=None)
    api.call("PATCH", "/v1/tenant", {"time_zone": "Europe/Paris"})
    for address in ("ops@acme.example", "it@acme.example"):  # subscribed; the previous one unsubscribed
        assert api.call("PATCH", "/v1/tenant", {"alert_email": address}).status == 200
    api.setup_tenant("acme")
    api.call("PUT", "/v1/providers/mailgun", {"signing_key": "key-rotated-0001", "keep_previous": True})
    api.get("/v1/tenant")
    early = api.mailgun(mailgun_event("delivered", "a@example.com", provider_message_id="pm@mg"))
    assert early.status == 200
    message_id = api.record(body={"text": "hi"}, recipients=[{"address": "a@example.com", "person_id": "P1",
                                                               "family_id": "F1", "provider_message_id": "pm@mg"}])
    api.post(f"/v1/messages/{message_id}/recipients", {"recipients": [{"address": "a@example.com", "name": "A"},
                                                                      {"address": "b@example.com"}]},
             auth=token(rights=["messages:write"]))
    assert api.post("/v1/messages", {"channel": "email", "recipients": [{"address": "c@example.com"}]},
                    auth=token(rights=["messages:write"]), headers={"Idempotency-Key": "k"}).status == 201
    for event in ("opened", "opened"):
        api.mailgun(mailgun_event(event, "b@example.com", message_id=message_id, event_id="same-event"))
    api.mailgun(mailgun_event("clicked", "c@example.com", provider_message_id="unknown@mg"))
    for path in ["/v1/messages?limit=1", f"/v1/messages/{message_id}", "/v1/recipients/a@example.com/messages",
                 "/v1/recipients/person:P1/messages", "/v1/recipients/family:F1/messages", "/v1/events",
                 "/v1/events?recipient=a@example.com", f"/v1/events?message_id={message_id}"]:
        reply = api.get(path)
        assert reply.status == 200, path
        if reply.json.get("next_cursor"):
            assert api.get(f"{path}&cursor={reply.json['next_cursor']}").status == 200
    faults = Faults(monkeypatch)  # DynamoDB refuses two webhooks' writes: they are parked, then replayed
    faults.fail("BatchWriteItem", times=100)
    assert api.mailgun(mailgun_event("delivered", "a@example.com", message_id=message_id)).status == 202
    assert api.mailgun(mailgun_event("delivered", "early@example.com", provider_message_id="pm-early")).status == 202
    faults.plan.clear()
    assert api.gateway.runtime.invoke("ReplayFunction", {"limit": 10}) == {"replayed": 2, "refused": 0, "failed": 0}
    for address in ("x@example.com", "y@example.com"):
        api.call("PUT", f"/v1/suppressions/{address}", {"reason": "manual"})
    api.get("/v1/suppressions/x@example.com")
    listed = api.get("/v1/suppressions?limit=1").json
    api.get(f"/v1/suppressions?limit=1&cursor={listed['next_cursor']}")
    api.call("DELETE", "/v1/suppressions/x@example.com")
    api.post("/v1/activity", {"action": "enrolment requested", "entity": "family:F1"})
    api.post("/v1/logins", {"status": "success", "user": {"id": "ann"}})
    api.get("/v1/activity?entity=family:F1")
    api.get("/v1/logins")
    api_log = api.get("/v1/api-log?limit=1").json
    api.get(f"/v1/api-log?limit=1&cursor={api_log['next_cursor']}")
    api.gateway.runtime.invoke("OperationsFunction", {"command": "link-customers", "enterprise": "acme",
                                                      "customers": ["school-a"]})
    for address in ("it@school-a.example", "desk@school-a.example"):
        api.gateway.runtime.invoke("OperationsFunction", {"command": "onboard-tenant", "tenant": "school-a",
                                                          "alert_email": address})
    api.gateway.runtime.invoke("OperationsFunction", {"command": "index-sent-sorts", "tenant": "acme"})
    # ingestion health: acme's Mailgun webhooks (above) stop, then come back; thresholds lowered to this
    # short history, and `now` (the check's clock) moved on
    from msglog import arrivals

    health = {"min_active_hours": 1, "min_events": 1}
    soon = datetime.now(UTC) + timedelta(hours=5)
    assert api.gateway.runtime.invoke("IngestionHealthFunction", {**health, "now": soon.isoformat()})["opened"] == 1
    arrivals.add("acme", "mailgun", arrivals.hour_of(soon), 1, 1)
    assert api.gateway.runtime.invoke("IngestionHealthFunction", {**health, "now": soon.isoformat()})["recovered"] == 1
    api.post("/v1/transactions", {"type": "top-up", "credits": 10})
    api.post("/v1/transactions", {"type": "top-up", "credits": 20})
    api.get("/v1/stats?group=customer")
    listed = api.get("/v1/transactions?limit=1").json
    api.get(f"/v1/transactions?limit=1&cursor={listed['next_cursor']}")
    # a large body sent long ago (a backfill): kept in S3, read back, then purged with its object
    old = api.record(created_at="2020-01-02T03:04:05Z", body={"html": "<p>" + "x" * 120_000 + "</p>"})
    assert api.get(f"/v1/messages/{old}").json["body"]["html"].startswith("<p>x")
    assert api.gateway.runtime.invoke("PurgeFunction", {"dry_run": False})["purged"] == 1
    # erasure: P1 (a shared message, events, a provider-message-id link) and P9 (a large body only they received)
    api.record(body={"html": "<p>" + "z" * 120_000 + "</p>"}, recipients=[{"address": "e@example.com", "person_id": "P9"}])
    assert api.call("DELETE", "/v1/people/P1").json["complete"] is True
    assert api.call("DELETE", "/v1/people/P9").json["bodies_deleted"] == 1
    # CSV export jobs started by each function that serves lists, run from the queue, and their links
    exports = [api.get(f"{path}?format=csv&limit=1&async=true").json["href"]
               for path in ("/v1/messages", "/v1/logins", "/v1/transactions", "/v1/suppressions")]
    assert api.pump() > len(exports)
    assert all(api.get(href).json["url"] for href in exports)
    used = calls.by_function()
    for logical_id in FUNCTIONS:
        granted = allowed(logical_id)
        assert used.get(logical_id, set()) <= granted, (logical_id, used.get(logical_id, set()) - granted)
        unused = {action for action, _ in granted} - {action for action, _ in used.get(logical_id, set())}
        unused -= RARE.get(logical_id, set())
        assert not unused, (logical_id, "granted but never used", unused)


def test_samconfig_has_dev_and_prod_and_lints():
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    assert {"dev", "prod"} <= set(config)
    assert config["default"]["validate"]["parameters"]["lint"] is True
    for env in ("dev", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        assert f"Stage={env}" in deploy["parameter_overrides"]
        assert config[env]["build"]["parameters"]["cached"] is True


def test_every_function_has_a_sample_event():
    for logical_id, function in FUNCTIONS.items():
        name = function.code_uri.name
        assert list((ROOT / "events").glob(f"{name}*.json")), f"events/{name}*.json for {logical_id}"
