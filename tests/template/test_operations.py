"""What operations rely on in template.yaml: throttled webhook route, reserved concurrency, failed
runs kept, alarms that reach the operators on metrics the code really emits, and a dashboard."""

from __future__ import annotations

import json
import re

from local.template import ROOT, http_api, load, resources

TEMPLATE = load()
RESOURCES = resources(TEMPLATE)
WEBHOOK_ROUTE = "POST /v1/webhooks/{provider}/{tenant_id}"


def _of_type(kind: str) -> dict[str, dict]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == kind}


def _emitted_metric_names() -> set[str]:
    """Every custom metric the code can emit: names given to add_metric, and the ingestion outcome
    codes the webhook function emits one metric each for."""
    names: set[str] = set()
    for path in [*ROOT.glob("functions/*/app.py"), *ROOT.glob("layers/msglog/msglog/**/*.py")]:
        text = path.read_text()
        names |= set(re.findall(r'add_metric\(\s*name="(\w+)"', text))
        names |= set(re.findall(r'^(?:LOG_OK|NOLOG_\w+|PARKED)\s*=\s*"(\w+)"', text, re.MULTILINE))
    return names


def _custom_metrics(value) -> set[str]:
    """The MessageLog metric names an alarm or a dashboard refers to."""
    found: set[str] = set()
    if isinstance(value, dict):
        if value.get("Namespace") == "MessageLog":
            found.add(value["MetricName"])
        for item in value.values():
            found |= _custom_metrics(item)
    elif isinstance(value, list):
        for item in value:
            found |= _custom_metrics(item)
    return found


def _dashboard_metrics(widgets: list[dict]) -> set[str]:
    """The MessageLog metric names of the widgets' rows ("." repeats the row above's value)."""
    found: set[str] = set()
    for widget in widgets:
        namespace = None
        for row in widget["properties"]["metrics"]:
            namespace = namespace if row[0] == "." else row[0]
            if namespace == "MessageLog":
                found.add(row[1])
    return found


def _dashboard() -> dict:
    body, _ = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    text = re.sub(r"\$\{[^}]+\}", "x", body)  # what CloudFormation substitutes
    return json.loads(text)


def test_the_webhook_route_has_its_own_throttle_and_every_other_route_a_default():
    api = http_api(TEMPLATE)
    assert set(api["DefaultRouteSettings"]) == {"ThrottlingRateLimit", "ThrottlingBurstLimit"}
    assert api["RouteSettings"][WEBHOOK_ROUTE] == {"ThrottlingRateLimit": {"Ref": "WebhookRateLimit"},
                                                   "ThrottlingBurstLimit": {"Ref": "WebhookBurstLimit"}}


def test_the_webhook_function_has_reserved_concurrency_so_a_flood_cannot_starve_the_views():
    reserved = RESOURCES["WebhooksFunction"]["Properties"]["ReservedConcurrentExecutions"]
    assert reserved["Fn::If"][0] == "ReservesWebhookConcurrency"
    assert reserved["Fn::If"][1] == {"Ref": "WebhookConcurrency"}
    others = [n for n, r in _of_type("AWS::Serverless::Function").items()
              if n != "WebhooksFunction" and "ReservedConcurrentExecutions" in r["Properties"]]
    assert others == []  # reserving for others too would only shrink the shared pool


def test_every_scheduled_function_keeps_its_failed_runs():
    scheduled = {
        name: function
        for name, function in _of_type("AWS::Serverless::Function").items()
        if any(e["Type"] in ("ScheduleV2", "Schedule") for e in function["Properties"].get("Events", {}).values())
    }
    assert "PurgeFunction" in scheduled
    for name, function in scheduled.items():
        on_failure = function["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
        assert on_failure["Type"] == "SQS" and on_failure["Destination"] == {
            "Fn::GetAtt": ["FailedInvocations", "Arn"]
        }, name
        for event in function["Properties"]["Events"].values():
            assert event["Properties"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["FailedInvocations", "Arn"]}}, (
                name
            )


def test_every_queue_that_holds_failures_has_a_depth_alarm():
    dead_letter = {"FailedInvocations"} | {
        target["Fn::GetAtt"][0] for r in _of_type("AWS::SQS::Queue").values()
        for target in [r.get("Properties", {}).get("RedrivePolicy", {}).get("deadLetterTargetArn")] if target}
    watched = set()
    for alarm in _of_type("AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        if properties.get("MetricName") == "ApproximateNumberOfMessagesVisible":
            watched |= {d["Value"]["Fn::GetAtt"][0] for d in properties["Dimensions"]}
    assert dead_letter <= watched


def test_alarms_reach_the_operators_and_watch_metrics_the_code_emits():
    alarms = _of_type("AWS::CloudWatch::Alarm")
    assert {"ApiServerErrorsAlarm", "WebhookErrorsAlarm", "WebhookThrottlesAlarm", "TableThrottlesAlarm",
            "ParkedWebhooksAlarm", "PurgeFailuresAlarm", "FailedInvocationsAlarm"} <= set(alarms)
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "OperatorAlarms"}], name
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching", name
    emitted = _emitted_metric_names()
    assert {"PARKED", "PurgeErrors", "LOG_OK"} <= emitted  # the scan of the code finds them
    assert _custom_metrics(alarms) <= emitted


def test_the_dashboard_is_valid_json_and_shows_only_emitted_metrics():
    widgets = _dashboard()["widgets"]
    assert len(widgets) >= 6
    shown = _dashboard_metrics(widgets)
    assert {"LOG_OK", "PARKED", "BodiesPurged"} <= shown
    assert shown <= _emitted_metric_names()


def test_failed_runs_and_alarm_topics_are_encrypted():
    assert RESOURCES["FailedInvocations"]["Properties"]["SqsManagedSseEnabled"] is True
    for topic in _of_type("AWS::SNS::Topic").values():
        assert topic["Properties"]["KmsMasterKeyId"]
