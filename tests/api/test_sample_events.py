"""events/: every sample event runs through its function and does what events/README.md says."""

from __future__ import annotations

import json
from datetime import datetime

from local.template import ROOT

EVENTS = ROOT / "events"


def invoke(runtime, function, name):
    result = runtime.invoke(function, json.loads((EVENTS / f"{name}.json").read_text()))
    return result["statusCode"], json.loads(result["body"])


def test_the_samples_tell_a_story(api_with):
    api = api_with(WEBHOOK_MAX_AGE_SECONDS="0")
    runtime = api.gateway.runtime
    assert invoke(runtime, "HealthFunction", "health")[0] == 200
    assert invoke(runtime, "SettingsFunction", "settings-put-mailgun")[0] == 200
    assert invoke(runtime, "SettingsFunction", "settings-patch")[1]["time_zone"] == "America/Chicago"
    assert invoke(runtime, "SettingsFunction", "settings-get")[1]["providers"]["mailgun"]["keys"] == 1
    assert invoke(runtime, "SettingsFunction", "settings-me")[1]["views"] == ["sent", "recipient", "sends", "people"]
    status, recorded = invoke(runtime, "MessagesFunction", "messages-record")
    assert status == 201
    assert invoke(runtime, "MessagesFunction", "messages-record") == (200, recorded)  # idempotent
    status, webhook = invoke(runtime, "WebhooksFunction", "webhooks-mailgun")
    assert (status, webhook["outcomes"]) == (200, {"LOG_OK": 1})
    assert api.settle_statuses() == 1  # one delivery changed: its change queued for the status writer
    status, log = invoke(runtime, "LogsFunction", "logs-recipient")
    assert [(i["message_id"], i["status"]) for i in log["items"]] == [(recorded["message_id"], "delivered")]
    assert invoke(runtime, "LogsFunction", "logs-sent")[1]["items"][0]["message_id"] == recorded["message_id"]
    send = invoke(runtime, "LogsFunction", "logs-sends")[1]["items"][0]
    assert (send["message_id"], send["campaign"], send["gateway"], send["status"]) == (
        recorded["message_id"], "Missing work", "mailgun", "delivered")
    assert invoke(runtime, "LogsFunction", "logs-events")[0] == 200
    assert [list(r["outcomes"]) for r in invoke(runtime, "LogsFunction", "logs-ingestion")[1]["items"]] == [["LOG_OK"]]
    assert invoke(runtime, "SuppressionsFunction", "suppressions-put")[1]["address"] == "parent@example.com"
    assert [s["address"] for s in invoke(runtime, "SuppressionsFunction", "suppressions-list")[1]["items"]] == [
        "parent@example.com"]


def test_the_change_sample_cancels_a_scheduled_message_of_that_id(api):
    """As shipped it names no message of the demo data (404); with a scheduled message's id it cancels it."""
    runtime = api.gateway.runtime
    assert invoke(runtime, "MessagesFunction", "messages-change")[0] == 404
    scheduled = api.record("demo", status="scheduled", org_unit="lincoln-high")
    event = json.loads((EVENTS / "messages-change.json").read_text().replace("01KB0000000000000000000000", scheduled))
    result = runtime.invoke("MessagesFunction", event)
    assert (result["statusCode"], json.loads(result["body"])["status"]) == (200, "canceled")


def test_the_webhook_sample_is_refused_with_the_age_check_on(api):
    assert invoke(api.gateway.runtime, "SettingsFunction", "settings-put-mailgun")[0] == 200
    status, problem = invoke(api.gateway.runtime, "WebhooksFunction", "webhooks-mailgun")
    assert status == 401 and "too old" in problem["detail"]


def test_the_status_sample_writes_a_status_no_view_shows(api):
    """Its delivery is not in the demo data: the status item is written, and lies unused."""
    import boto3

    from local.provision import physical_name

    event = json.loads((EVENTS / "status-changes.json").read_text())
    assert api.gateway.runtime.invoke("StatusFunction", event) == {"batchItemFailures": []}
    assert '"written":1' in api.output.getvalue().replace(' ', '')
    pk, message_id = json.loads(event["Records"][0]["body"])["changes"][0][:2]
    left = boto3.client("dynamodb").query(TableName=physical_name("Table"), KeyConditionExpression="pk = :pk",
                                          ExpressionAttributeValues={":pk": {"S": pk}})["Items"]
    assert [(i["sk"]["S"], i["status"]["S"]) for i in left] == [(f"M#{message_id}#S", "delivered")]
    address = pk.split("#R#")[1]
    assert api.get(f"/v1/recipients/{address}/messages").json["items"] == []


def test_the_recover_sample_needs_api_credentials_then_recovers_its_window(api_with):
    """events/operations-recover.json as shipped: its tenant has no Mailgun API credentials yet (the answer
    says so); with them, and Mailgun's API (a fake) holding an event of the window, the window is recovered."""
    from local.fakes.mailgun import FakeMailgun
    from tests.support import mailgun_event, token

    event = json.loads((EVENTS / "operations-recover.json").read_text())
    fake = FakeMailgun("key-sample-api", "mg.lakeside.example").start()
    try:
        api = api_with(MAILGUN_API_URL=fake.url)
        runtime = api.gateway.runtime
        assert "no API credentials for mailgun" in runtime.invoke("OperationsFunction", event)["error"]
        assert api.call("PUT", "/v1/providers/mailgun", {"api": {"api_key": "key-sample-api", "domain":
                        "mg.lakeside.example"}}, auth=token(event["tenant"])).status == 200
        inside = datetime.fromisoformat(event["from"]).timestamp() + 3600
        fake.add(mailgun_event("delivered", "pat@example.com", provider_message_id="s1@mg", at=inside))
        recovered = runtime.invoke("OperationsFunction", event)
        assert (recovered["status"], recovered["outcomes"]) == ("done", {"NOLOG_UNMATCHED": 1})
    finally:
        fake.stop()
