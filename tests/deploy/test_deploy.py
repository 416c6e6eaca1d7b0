"""What fails only in AWS, where no local tool sees it, checked on the built template as
CloudFormation receives it: `make template`'s .aws-sam/build/template.yaml with SAM's transform
applied (tests/deploy/transform.py writes it to .aws-sam/build/cloudformation.json).

`make deploy-check` runs these (after `make template`, and checkov); `make test` runs it."""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from local.fakes.mailgun import FakeMailgun
from local.fakes.ses import FakeSesV2
from local.template import ROOT, functions
from tests.deploy.roles import allowed, refs
from tests.support import AwsCalls, Faults, mailgun_event, reset_function_state, token

BUILD = ROOT / ".aws-sam" / "build"
CLOUDFORMATION = BUILD / "cloudformation.json"
LAYER = BUILD / "MsgLogLayer" / "python"
LAYER_BUDGET_MB = 52  # about 47 today: cryptography 15, powertools 7, botocore 5 (its models pruned), pydantic 9
SAMCONFIG = ROOT / "samconfig.toml"


@pytest.fixture(scope="module")
def deployed() -> dict[str, Any]:
    """The transformed template; refused if the build is older than template.yaml (stale)."""
    chain = [ROOT / "template.yaml", BUILD / "template.yaml", CLOUDFORMATION]
    if not all(p.exists() for p in chain) or sorted(chain, key=lambda p: p.stat().st_mtime) != chain:
        pytest.fail("the built template is missing or older than template.yaml: run `make deploy-check`")
    return json.loads(CLOUDFORMATION.read_text())


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


# ------------------------------------------------------------------ names: dev and prod in one account
# Properties that name a resource uniquely in an account (and region); left out, CloudFormation
# makes a unique name from the stack's.
ACCOUNT_UNIQUE_NAMES = {
    "AWS::CloudWatch::Dashboard": "DashboardName", "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::KMS::Alias": "AliasName", "AWS::Scheduler::Schedule": "Name", "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::Events::Rule": "Name", "AWS::Logs::LogGroup": "LogGroupName", "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName", "AWS::S3::Bucket": "BucketName", "AWS::DynamoDB::Table": "TableName",
    "AWS::Lambda::Function": "FunctionName", "AWS::Lambda::LayerVersion": "LayerName", "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName", "AWS::SecretsManager::Secret": "Name",
    "AWS::SSM::Parameter": "Name", "AWS::ApiGatewayV2::DomainName": "DomainName",
    # named inside their configuration (the console's, issue 19)
    "AWS::CloudFront::OriginAccessControl": "OriginAccessControlConfig.Name",
    "AWS::CloudFront::ResponseHeadersPolicy": "ResponseHeadersPolicyConfig.Name",
    "AWS::CloudFront::CachePolicy": "CachePolicyConfig.Name",
    "AWS::CloudFront::OriginRequestPolicy": "OriginRequestPolicyConfig.Name",
    "AWS::CloudFront::Function": "Name",
}


def _property(properties: dict[str, Any], dotted: str) -> Any:
    for name in dotted.split("."):
        properties = properties.get(name, {}) if isinstance(properties, dict) else {}
    return properties or None


def test_every_account_unique_name_derives_from_the_stack_name(deployed):
    named = {}
    for logical_id, resource in deployed["Resources"].items():
        prop = ACCOUNT_UNIQUE_NAMES.get(resource["Type"])
        if prop and (name := _property(resource.get("Properties", {}), prop)) is not None:
            named[logical_id] = name
    assert {"Dashboard", "ProviderKeyAlias", "PurgeFunctionHourly", "ConsoleOriginAccess"} <= set(named)  # seen
    fixed = {logical_id: name for logical_id, name in named.items() if "AWS::StackName" not in refs(name)}
    assert fixed == {}, "named without the stack name: a second stack in the account collides"
    # the topics made at run time (one per alert address) too
    variables = deployed["Resources"]["IngestionHealthFunction"]["Properties"]["Environment"]["Variables"]
    assert "AWS::StackName" in refs(variables["ALERT_TOPIC_PREFIX"])


# ------------------------------------------------------------------ concurrency: a new account's quota
def _evaluate(value: Any, parameters: dict[str, str], conditions: dict[str, Any]) -> Any:
    """The value CloudFormation would use with these parameters (Fn::If, Ref, conditions)."""
    if isinstance(value, dict) and len(value) == 1:
        (name, arg), = value.items()
        if name == "Ref":
            return None if arg == "AWS::NoValue" else parameters.get(arg, value)
        if name == "Fn::If":
            chosen = arg[1] if _condition(arg[0], parameters, conditions) else arg[2]
            return _evaluate(chosen, parameters, conditions)
    return value


def _condition(name_or_expression: Any, parameters: dict[str, str], conditions: dict[str, Any]) -> bool:
    expression = conditions[name_or_expression] if isinstance(name_or_expression, str) else name_or_expression
    (name, arg), = expression.items()
    if name == "Condition":
        return _condition(arg, parameters, conditions)
    if name == "Fn::Equals":
        left, right = (str(_evaluate(a, parameters, conditions)) for a in arg)
        return left == right
    if name == "Fn::Not":
        return not _condition(arg[0], parameters, conditions)
    if name == "Fn::And":
        return all(_condition(a, parameters, conditions) for a in arg)
    if name == "Fn::Or":
        return any(_condition(a, parameters, conditions) for a in arg)
    raise AssertionError(f"condition {expression!r}")


def _overrides(stage: str) -> dict[str, str]:
    text = tomllib.loads(SAMCONFIG.read_text())[stage]["deploy"]["parameters"]["parameter_overrides"]
    return dict(pair.split("=", 1) for pair in text.split())


@pytest.mark.parametrize("stage", [None, "dev"])
def test_no_concurrency_is_reserved_unless_prod_asks(deployed, stage):
    """New accounts may have 10 concurrent executions in all: a reservation rolls the stack back."""
    defaults = {name: str(spec["Default"]) for name, spec in deployed["Parameters"].items() if "Default" in spec}
    parameters = {**defaults, **(_overrides(stage) if stage else {})}
    reserved = {logical_id: _evaluate(f["Properties"].get("ReservedConcurrentExecutions"), parameters,
                                      deployed.get("Conditions", {}))
                for logical_id, f in _of_type(deployed, "AWS::Lambda::Function").items()}
    assert {k: v for k, v in reserved.items() if v not in (None, "0", 0)} == {}


def test_prod_sets_its_webhook_concurrency_and_the_readme_says_to_check_the_quota():
    assert "WebhookConcurrency" in _overrides("prod")  # a choice made for prod, against its account's quota
    assert "Concurrent executions" in (ROOT / "README.md").read_text()  # the quota's name in Service Quotas


# ------------------------------------------------------------------ alarms reach the operators
def _allows(statement: dict[str, Any], principal: str, action: str) -> bool:
    services = statement.get("Principal", {}).get("Service", []) if isinstance(statement.get("Principal"), dict) else []
    services = [services] if isinstance(services, str) else services
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    return (statement["Effect"] == "Allow" and principal in services
            and any(fnmatch.fnmatchcase(action, pattern) for pattern in actions))


def test_every_alarm_publishes_to_a_topic_cloudwatch_can_use(deployed):
    """An alarm's topic encrypted with a key CloudWatch may not use (alias/aws/sns) never gets its
    notifications: the key must be the template's own, letting cloudwatch.amazonaws.com in."""
    alarms = _of_type(deployed, "AWS::CloudWatch::Alarm")
    assert alarms
    topics = _of_type(deployed, "AWS::SNS::Topic")
    keys = _of_type(deployed, "AWS::KMS::Key")
    for name, alarm in alarms.items():
        actions = [a for field in ("AlarmActions", "OKActions", "InsufficientDataActions")
                   for a in alarm["Properties"].get(field, [])]
        assert actions, name
        for action in actions:
            [topic] = refs(action) & set(topics)
            key = topics[topic]["Properties"].get("KmsMasterKeyId")
            if key is None:
                continue  # unencrypted: CloudWatch publishes
            [key_id] = refs(key) & set(keys) or [f"not a key of the template: {key!r}"]
            assert key_id in keys, (name, topic, key_id)
            statements = keys[key_id]["Properties"]["KeyPolicy"]["Statement"]
            for needed in ("kms:Decrypt", "kms:GenerateDataKey"):
                assert any(_allows(s, "cloudwatch.amazonaws.com", needed) for s in statements), (topic, needed)


# ------------------------------------------------------------------ logs are kept, not forever
def test_every_log_group_has_a_retention_and_every_function_logs_to_one(deployed):
    groups = _of_type(deployed, "AWS::Logs::LogGroup")
    assert {name for name, g in groups.items() if "RetentionInDays" not in g["Properties"]} == set()
    for name, function in _of_type(deployed, "AWS::Lambda::Function").items():
        # without its own group, Lambda makes /aws/lambda/<name> on first use, kept forever
        target = function["Properties"].get("LoggingConfig", {}).get("LogGroup")
        assert target is not None and refs(target) & set(groups), name


# ------------------------------------------------------------------ buckets: TLS only, access logged
def _refuses_plain_http(statement: dict[str, Any], bucket: str) -> bool:
    """A Deny for everyone, of every S3 action, on the bucket and its objects, when the request is not TLS."""
    resources = statement.get("Resource", [])
    resources = resources if isinstance(resources, list) else [resources]
    covered = {("bucket" if "Fn::GetAtt" in r else "objects" if str(r.get("Fn::Sub", "")).endswith("/*") else "?")
               for r in resources if isinstance(r, dict) and refs(r) == {bucket}}
    return (statement.get("Effect") == "Deny" and statement.get("Principal") in ("*", {"AWS": "*"})
            and statement.get("Action") in ("s3:*", ["s3:*"]) and covered >= {"bucket", "objects"}
            and statement.get("Condition") in ({"Bool": {"aws:SecureTransport": False}},
                                               {"Bool": {"aws:SecureTransport": "false"}}))


def test_every_bucket_refuses_requests_without_tls_and_logs_its_access(deployed):
    """checkov has no CloudFormation check for TLS-only buckets: without this test a bucket whose
    policy is dropped would take plain-HTTP requests unnoticed."""
    buckets = _of_type(deployed, "AWS::S3::Bucket")
    assert {"ParkedWebhooks", "MessageBodies", "Exports", "AccessLogs"} <= set(buckets)
    policies = _of_type(deployed, "AWS::S3::BucketPolicy").values()
    for name in buckets:
        statements = [s for p in policies if refs(p["Properties"]["Bucket"]) == {name}
                      for s in p["Properties"]["PolicyDocument"]["Statement"]]
        assert any(_refuses_plain_http(s, name) for s in statements), (name, "takes requests without TLS")
    logged_to = {name: refs(b["Properties"].get("LoggingConfiguration", {}).get("DestinationBucketName"))
                 for name, b in buckets.items()}
    destinations = set().union(*logged_to.values())
    assert destinations and destinations <= set(buckets)
    # every bucket but the access-log bucket itself (it would log its own deliveries) logs its access
    assert {name for name, target in logged_to.items() if not target} == destinations


# ------------------------------------------------------------------ the identity provider is the operator's
def test_no_placeholder_identity_provider_is_trusted(deployed):
    for name in ("JwtIssuer", "JwtAudience"):  # CloudFormation refuses the stack until they are given
        assert "Default" not in deployed["Parameters"][name], name
    config = tomllib.loads(SAMCONFIG.read_text())
    for stage in ("dev", "prod"):
        overrides = config[stage]["deploy"]["parameters"]["parameter_overrides"]
        assert not re.search(r"example\.(com|org|net)|auth0\.com/?(\s|$)", overrides), (stage, overrides)


# ------------------------------------------------------------------ CORS: what a browser may read
CORS_SAFELISTED = {"cache-control", "content-language", "content-length", "content-type", "expires",
                   "last-modified", "pragma"}


def _response_headers_the_code_sets() -> set[str]:
    found: set[str] = set()
    for path in [*ROOT.glob("functions/*/app.py"), *ROOT.glob("layers/msglog/msglog/**/*.py")]:
        text = path.read_text()
        found |= set(re.findall(r'headers\s*=\s*\{\s*"([A-Za-z0-9-]+)"', text))
        found |= set(re.findall(r'headers\["([A-Za-z0-9-]+)"\]\s*=', text))
    return {h.lower() for h in found}


def test_cors_exposes_every_header_the_api_sets(deployed):
    [api] = _of_type(deployed, "AWS::ApiGatewayV2::Api").values()  # SAM writes CORS into its OpenAPI body
    exposed = {h.lower() for h in api["Properties"]["Body"]["x-amazon-apigateway-cors"]["exposeHeaders"]}
    set_by_code = _response_headers_the_code_sets()
    assert {"location", "x-next-cursor", "content-disposition"} <= set_by_code  # the scan finds them
    assert set_by_code - CORS_SAFELISTED - exposed == set()


# ------------------------------------------------------------------ the console (DeployConsole, issue 19)
def _statements(template: dict[str, Any], bucket: str) -> list[dict[str, Any]]:
    [policy] = [p for p in _of_type(template, "AWS::S3::BucketPolicy").values()
                if refs(p["Properties"]["Bucket"]) == {bucket}]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_the_console_is_deployed_only_when_asked(deployed):
    assert deployed["Parameters"]["DeployConsole"]["Default"] == "false"
    console = {"ConsoleBucket", "ConsoleBucketPolicy", "ConsoleOriginAccess", "ConsoleHeaders", "ConsoleDistribution"}
    assert {name: deployed["Resources"][name].get("Condition") for name in console} == dict.fromkeys(
        console, "DeploysConsole")
    assert deployed["Conditions"]["DeploysConsole"] == {"Fn::Equals": [{"Ref": "DeployConsole"}, "true"]}


def test_the_console_bucket_is_private_and_only_its_distribution_reads_it(deployed):
    bucket = deployed["Resources"]["ConsoleBucket"]["Properties"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert refs(bucket["LoggingConfiguration"]["DestinationBucketName"]) == {"AccessLogs"}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    statements = _statements(deployed, "ConsoleBucket")
    allows = [s for s in statements if s["Effect"] == "Allow"]
    # one reader: CloudFront, for this distribution only (origin access control signs as the service)
    cloudfront = {"Service": "cloudfront.amazonaws.com"}
    assert [(s["Principal"], s["Action"]) for s in allows] == [(cloudfront, "s3:GetObject")]
    source = allows[0]["Condition"]["StringEquals"]["AWS:SourceArn"]
    assert refs(source) >= {"ConsoleDistribution"} and ":distribution/${ConsoleDistribution}" in source["Fn::Sub"]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": False}}
               for s in statements)
    # the distribution reads it through origin access control (SigV4, always), not a legacy identity
    assert not _of_type(deployed, "AWS::CloudFront::CloudFrontOriginAccessIdentity")
    config = deployed["Resources"]["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    [origin] = [o for o in config["Origins"] if refs(o["DomainName"]) == {"ConsoleBucket"}]
    assert refs(origin["OriginAccessControlId"]) == {"ConsoleOriginAccess"}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    access = deployed["Resources"]["ConsoleOriginAccess"]["Properties"]["OriginAccessControlConfig"]
    assert (access["OriginAccessControlOriginType"], access["SigningBehavior"]) == ("s3", "always")
    assert config["DefaultRootObject"] == "index.html"


def test_the_console_is_served_with_strict_headers_and_the_api_on_its_own_origin(deployed):
    config = deployed["Resources"]["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    behaviors = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert {refs(b["ResponseHeadersPolicyId"]) == {"ConsoleHeaders"} for b in behaviors} == {True}
    assert {b["ViewerProtocolPolicy"] for b in behaviors} <= {"redirect-to-https", "https-only"}
    headers = deployed["Resources"]["ConsoleHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    security = headers["SecurityHeadersConfig"]
    policy, variables = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == directives["style-src"] == "'self'"  # nothing inline, nothing from elsewhere
    # the API on the same origin, and the sign-in: the issuer as a path prefix, other origins as given
    # (tests/template/test_console_headers.py renders it)
    assert directives["connect-src"] == "'self' ${IssuerPath}/${OtherSources}"
    assert refs(variables["IssuerPath"]) == {"JwtIssuer"}
    assert refs(variables["OtherSources"]) == {"ConsoleConnectSources"}
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["ContentTypeOptions"] == {"Override": True}
    # /v1/* goes to this stack's API, uncached, with the caller's Authorization
    [api] = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/v1/*"]
    [origin] = [o for o in config["Origins"] if o["Id"] == api["TargetOriginId"]]
    assert refs(origin["DomainName"]) >= {"Api"}
    assert api["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # Managed-CachingDisabled
    assert api["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AllViewerExceptHostHeader
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= set(api["AllowedMethods"])
    outputs = deployed["Outputs"]
    assert {"ConsoleUrl", "ConsoleBucketName", "ConsoleDistributionId", "ConsoleConfig"} <= set(outputs)
    assert '{"apiBase": ""' in json.dumps(outputs["ConsoleConfig"]["Value"]).replace('\\"', '"')


# ------------------------------------------------------------------ the layer
def _requirement_pins(*files: Path) -> dict[str, str]:
    pins = {}
    for path in files:
        for line in path.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if "==" in line and not line.startswith("-"):
                name, version = line.split("==", 1)
                pins[_canonical(name.split("[", 1)[0])] = version.strip()
    return pins


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _shipped() -> dict[str, str]:
    """Distribution -> version, as the built layer ships them."""
    out = {}
    for info in LAYER.glob("*.dist-info"):
        meta = dict(line.split(": ", 1) for line in (info / "METADATA").read_text(errors="replace").splitlines()
                    if ": " in line and not line.startswith(" "))
        out[_canonical(meta["Name"])] = meta["Version"]
    return out


def test_the_layer_ships_exactly_the_pinned_versions_the_tests_ran(deployed):
    shipped = _shipped()
    assert {"botocore", "pynamodb", "aws-lambda-powertools"} <= set(shipped)
    pins = _requirement_pins(ROOT / "layers/msglog/requirements.txt", ROOT / "layers/msglog/constraints.txt")
    assert {name: version for name, version in shipped.items() if pins.get(name) != version} == {}, "unpinned"
    ran = {name: metadata.version(name) for name in shipped}
    assert {name: (version, ran[name]) for name, version in shipped.items() if ran[name] != version} == {}


def _services_the_code_calls() -> set[str]:
    services = {"dynamodb"}  # pynamodb's
    for path in [*ROOT.glob("functions/*/app.py"), *ROOT.glob("layers/msglog/msglog/**/*.py")]:
        services |= set(re.findall(r'\b(?:client|calling_once)\(\s*"([a-z0-9-]+)"', path.read_text()))
    return services


def test_the_layer_keeps_only_what_the_runtime_lacks(deployed):
    """boto3 is in the Lambda runtime and the code does not use it; botocore is shipped (pinned: the
    code relies on its internals) with the models of the services the code calls, no others."""
    assert not (LAYER / "boto3").exists() and not (LAYER / "s3transfer").exists()
    models = {p.name for p in (LAYER / "botocore" / "data").iterdir() if p.is_dir()}
    assert models == _services_the_code_calls()
    size = sum(p.stat().st_size for p in LAYER.rglob("*") if p.is_file()) / 1e6
    assert size < LAYER_BUDGET_MB, f"the layer is {size:.1f} MB"


def test_the_layer_s_botocore_makes_every_client_the_code_makes(deployed):
    script = ("import sys; sys.path.insert(0, sys.argv[1]); import botocore, botocore.session; "
              "assert botocore.__file__.startswith(sys.argv[1]), botocore.__file__; "
              "s = botocore.session.get_session(); "
              "[s.create_client(n, region_name='us-east-1', aws_access_key_id='x', aws_secret_access_key='x') "
              "for n in sys.argv[2:]]")
    done = subprocess.run([sys.executable, "-c", script, str(LAYER), *sorted(_services_the_code_calls())],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# ------------------------------------------------------------------ make help
def test_make_help_lists_every_target_with_one_line():
    makefile = (ROOT / "Makefile").read_text()
    targets = {name for names in re.findall(r"^([a-z][a-z0-9 -]*):(?!=)", makefile, re.MULTILINE)
               for name in names.split()}
    assert {"run", "test", "template", "deploy-check", "help"} <= targets
    done = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    rows = [re.match(r"\s*make (.+?)\s{2,}(\S.*)$", line) for line in done.stdout.splitlines()]
    assert done.returncode == 0 and rows and all(rows), done.stdout
    listed = {name for row in rows for name in row.group(1).split(" / ")}
    assert targets <= listed


# ------------------------------------------------------------------ IAM: what the code calls, as deployed
# Granted for paths the flow below does not take, each exercised elsewhere: a message recorded
# while a webhook for it is being stored (the webhook then links the events it parked), and an
# SES subscription confirmation (tests/api/test_webhooks.py).
# (Since issue 18/23: paths the flow does not take, held to the roles by the recording plugin.)
RARE = {"WebhooksFunction": {"dynamodb:DeleteItem", "sns:ConfirmSubscription",
                             "dynamodb:Query"},  # a Twilio callback without To (test_provider_answers)
        "ReplayFunction": {"dynamodb:DeleteItem", "sns:ConfirmSubscription", "s3:PutObject", "dynamodb:Query"},
        "IngestionHealthFunction": {"dynamodb:UpdateItem"},  # a daily reminder (test_ingestion_truth)
        "SuppressionsFunction": {"dynamodb:BatchGetItem"}}  # a family's suppressions (test_rows)


def test_functions_use_only_what_their_roles_allow(deployed, api_with, monkeypatch):
    """Every AWS call the functions make in a full run of the slice is allowed by their own role, as
    deployed (SAM policy templates expanded) — and every allowed action is used (nothing granted just in case)."""
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
    later = api.record(status="scheduled", scheduled_at="2026-12-31T08:00:00Z")  # canceled: its recipients too
    assert api.call("PATCH", f"/v1/messages/{later}", {"status": "canceled"},
                    auth=token(rights=["messages:write"])).status == 200
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
    provider_api = FakeMailgun("key-mailgun-api-0001", "mg.example.org").start()  # a refresh asks Mailgun (a fake)
    monkeypatch.setenv("MAILGUN_API_URL", provider_api.url)
    api.call("PUT", "/v1/providers/mailgun", {"api": {"api_key": "key-mailgun-api-0001", "domain": "mg.example.org"}})
    refreshed = api.record(provider="mailgun", recipients=[{"address": "r@example.com", "provider_message_id": "r@mg"}])
    provider_api.add(mailgun_event("delivered", "r@example.com", provider_message_id="r@mg"))
    assert api.post(f"/v1/messages/{refreshed}/refresh").json["changed"] == 1
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
    assert api.call("DELETE", "/v1/suppressions/x@example.com").json["providers"][0]["outcome"] == "not held"
    api.post("/v1/activity", {"action": "enrolment requested", "entity": "family:F1"})
    api.post("/v1/logins", {"status": "success", "user": {"id": "ann"}})
    api.get("/v1/activity?entity=family:F1")
    api.get("/v1/logins")
    api_log = api.get("/v1/api-log?limit=1").json
    api.get(f"/v1/api-log?limit=1&cursor={api_log['next_cursor']}")
    people = api.get("/v1/people?limit=1").json  # the people directory's second page: its cursor's key
    api.get(f"/v1/people?limit=1&cursor={people['next_cursor']}")
    api.gateway.runtime.invoke("OperationsFunction", {"command": "link-customers", "enterprise": "acme",
                                                      "customers": ["school-a"]})
    for address in ("it@school-a.example", "desk@school-a.example"):
        api.gateway.runtime.invoke("OperationsFunction", {"command": "onboard-tenant", "tenant": "school-a",
                                                          "alert_email": address})
    from msglog import keys
    from msglog.models import Message  # as recorded before counts existed: count-messages recounts it

    Message(keys.message_pk("acme", later), keys.META_SK).update(actions=[Message.counted_recipients.remove()])
    for command in ("index-sent-sorts", "index-sends", "count-messages"):
        api.gateway.runtime.invoke("OperationsFunction", {"command": command, "tenant": "acme"})
    # ingestion health: acme's Mailgun webhooks (above) stop, then come back; thresholds lowered to this
    # short history, and `now` (the check's clock) moved on
    from msglog import arrivals

    health = {"min_active_hours": 1, "min_events": 1}
    soon = datetime.now(UTC) + timedelta(hours=5)
    assert api.gateway.runtime.invoke("IngestionHealthFunction", {**health, "now": soon.isoformat()})["opened"] == 1
    arrivals.add("acme", "mailgun", arrivals.hour_of(soon), 1, 1)
    # Mailgun clicked in the silence: the check fetches the silent window from its API (a fake), as an operator can
    provider_api.add(mailgun_event("clicked", "r@example.com", provider_message_id="r@mg", at=soon.timestamp() - 7200))
    back = api.gateway.runtime.invoke("IngestionHealthFunction", {**health, "now": soon.isoformat()})
    assert back["recovered"] == 1 and back["incidents"][0]["recovery"] == "done"
    provider_api.add(mailgun_event("opened", "r@example.com", provider_message_id="r@mg", at=soon.timestamp() - 60))
    assert api.gateway.runtime.invoke("OperationsFunction", {
        "command": "recover", "tenant": "acme", "provider": "mailgun", "from": (soon - timedelta(hours=1)).isoformat(),
        "to": soon.isoformat()})["outcomes"] == {"LOG_RECOVERED": 1}
    provider_api.stop()
    ses = FakeSesV2().start()  # SES's account suppression list: a fake (moto has none), asked with the role
    monkeypatch.setenv("AWS_ENDPOINT_URL_SESV2", ses.url)
    api.call("PUT", "/v1/providers/ses", {"topic_arns": ["arn:aws:sns:us-east-1:123456789012:ses-events"]})
    ses.suppress("held@example.com")
    assert api.get("/v1/suppressions/held@example.com?refresh=true").json["source"] == "provider"
    reset = api.call("DELETE", "/v1/suppressions/held@example.com").json["providers"]
    assert {"provider": "ses", "held": ["bounce"], "outcome": "removed"} in reset
    ses.stop()
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
    api.record(
        body={"html": "<p>" + "z" * 120_000 + "</p>"}, recipients=[{"address": "e@example.com", "person_id": "P9"}]
    )
    assert api.call("DELETE", "/v1/people/P1").json["complete"] is True
    assert api.call("DELETE", "/v1/people/P9").json["bodies_deleted"] == 1
    # CSV export jobs started by each function that serves lists, run from the queue, and their links
    exports = [api.get(f"{path}?format=csv&limit=1&async=true").json["href"]
               for path in ("/v1/messages", "/v1/logins", "/v1/transactions", "/v1/suppressions")]
    assert api.pump() > len(exports)
    assert all(api.get(href).json["url"] for href in exports)
    used = calls.by_function()
    for logical_id in functions():
        granted = allowed(deployed, logical_id)
        assert used.get(logical_id, set()) <= granted, (logical_id, used.get(logical_id, set()) - granted)
        unused = {action for action, _ in granted} - {action for action, _ in used.get(logical_id, set())}
        unused -= RARE.get(logical_id, set())
        assert not unused, (logical_id, "granted but never used", unused)

