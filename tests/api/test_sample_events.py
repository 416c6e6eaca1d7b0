"""events/: every sample event runs through its function and does what events/README.md says."""

from __future__ import annotations

import json

from local.template import ROOT

EVENTS = ROOT / "events"


def invoke(runtime, function, name):
    result = runtime.invoke(function, json.loads((EVENTS / f"{name}.json").read_text()))
    return result["statusCode"], json.loads(result["body"])


def test_the_samples_tell_a_story(api_with):
    runtime = api_with(WEBHOOK_MAX_AGE_SECONDS="0").gateway.runtime
    assert invoke(runtime, "HealthFunction", "health")[0] == 200
    assert invoke(runtime, "SettingsFunction", "settings-put-mailgun")[0] == 200
    assert invoke(runtime, "SettingsFunction", "settings-patch")[1]["time_zone"] == "America/Chicago"
    assert invoke(runtime, "SettingsFunction", "settings-get")[1]["providers"]["mailgun"]["keys"] == 1
    status, recorded = invoke(runtime, "MessagesFunction", "messages-record")
    assert status == 201
    assert invoke(runtime, "MessagesFunction", "messages-record") == (200, recorded)  # idempotent
    status, webhook = invoke(runtime, "WebhooksFunction", "webhooks-mailgun")
    assert (status, webhook["outcomes"]) == (200, {"LOG_OK": 1})
    status, log = invoke(runtime, "LogsFunction", "logs-recipient")
    assert [(i["message_id"], i["status"]) for i in log["items"]] == [(recorded["message_id"], "delivered")]
    assert invoke(runtime, "LogsFunction", "logs-sent")[1]["items"][0]["message_id"] == recorded["message_id"]
    assert invoke(runtime, "LogsFunction", "logs-events")[0] == 200
    assert [list(r["outcomes"]) for r in invoke(runtime, "LogsFunction", "logs-ingestion")[1]["items"]] == [["LOG_OK"]]
    assert invoke(runtime, "SuppressionsFunction", "suppressions-put")[1]["address"] == "parent@example.com"
    assert [s["address"] for s in invoke(runtime, "SuppressionsFunction", "suppressions-list")[1]["items"]] == [
        "parent@example.com"]


def test_the_webhook_sample_is_refused_with_the_age_check_on(api):
    assert invoke(api.gateway.runtime, "SettingsFunction", "settings-put-mailgun")[0] == 200
    status, problem = invoke(api.gateway.runtime, "WebhooksFunction", "webhooks-mailgun")
    assert status == 401 and "too old" in problem["detail"]
