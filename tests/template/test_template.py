"""template.yaml is the single source of truth: the code, the local stack and IAM agree with it."""

from __future__ import annotations

import re
import tomllib

import pytest

from local.openapi import webhook_app
from local.template import ROOT, functions, http_api, load, resources, routes
from tests.support import wildcard_refusals

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
    modelled = {
        index.Meta.index_name: (
            [a.attr_name for a in sorted(index.Meta.attributes.values(), key=lambda a: not a.is_hash_key)],
            index.Meta.projection.projection_type,
            getattr(index.Meta.projection, "non_key_attributes", None),
        )
        for index in (Entity.gsi1, Entity.gsi2, Entity.gsi3, Entity.gsi4, Entity.gsi5, Entity.gsi6, Entity.gsi7)
    }
    assert declared == modelled
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["TimeToLiveSpecification"] == {"AttributeName": Entity.expires_at.attr_name, "Enabled": True}


def _handler_routes(runtime, logical_id: str) -> set[str]:
    module = runtime.module(logical_id)
    app = getattr(module, "app", None)
    if app is None and logical_id == "WebhooksFunction":  # one route, answered without a resolver
        app = webhook_app()
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
            assert not wildcard_refusals(statement), (logical_id, "on Resource '*'", wildcard_refusals(statement))


def test_only_actions_without_resource_types_may_be_granted_on_any_resource():
    ses = ["ses:GetSuppressedDestination", "ses:DeleteSuppressedDestination"]
    assert wildcard_refusals({"Action": ses, "Resource": "*"}) == []
    assert wildcard_refusals({"Action": [*ses, "ses:SendEmail"], "Resource": ["*"]}) == ["ses:SendEmail"]
    assert wildcard_refusals({"Action": "dynamodb:GetItem", "Resource": "*"}) == ["dynamodb:GetItem"]
    assert wildcard_refusals({"Action": "dynamodb:GetItem", "Resource": {"Fn::GetAtt": ["Table", "Arn"]}}) == []


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


def _snapstart_applies(props: dict, snapstart: str) -> bool:
    """The function's SnapStart.ApplyOn as CloudFormation resolves it with the SnapStart parameter."""
    apply_on = props.get("SnapStart", {}).get("ApplyOn", "None")
    if isinstance(apply_on, dict):
        condition, when_true, when_false = apply_on["Fn::If"]
        assert TEMPLATE["Conditions"][condition] == {"Fn::Equals": [{"Ref": "SnapStart"}, "true"]}
        apply_on = when_true if snapstart == "true" else when_false
    return apply_on == "PublishedVersions"


@pytest.mark.parametrize("snapstart", ["true", "false"])
def test_snapstart_is_on_exactly_for_the_jwt_route_and_webhook_functions(snapstart):
    api_functions = {r.function for r in routes() if r.authorized or r.key.startswith("POST /v1/webhooks/")}
    on = {logical_id for logical_id, resource in resources().items()
          if resource["Type"] == "AWS::Serverless::Function" and _snapstart_applies(resource["Properties"], snapstart)}
    assert on == (api_functions if snapstart == "true" else set())
    for logical_id in api_functions:
        props = resources()[logical_id]["Properties"]
        assert props["AutoPublishAlias"] == "live", logical_id  # SnapStart restores published versions only
        assert props["VersionDeletionPolicy"] == "Delete", logical_id  # an old version's snapshot is charged
        # what SnapStart does not support (Lambda developer guide, SnapStart)
        assert not {"ProvisionedConcurrencyConfig", "FileSystemConfigs"} & set(props), logical_id
        assert props.get("EphemeralStorage", {}).get("Size", 512) <= 512, logical_id


def test_snapstart_is_off_by_default_and_on_in_prod():
    assert TEMPLATE["Parameters"]["SnapStart"]["Default"] == "false"
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    assert "SnapStart=true" in config["prod"]["deploy"]["parameters"]["parameter_overrides"]
    assert "SnapStart" not in config["dev"]["deploy"]["parameters"]["parameter_overrides"]
