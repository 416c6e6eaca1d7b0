"""Ingestion health ("are ANY emails logging?"): a tenant/provider pair whose webhooks stopped,
judged against its own usual traffic, is alerted once per incident — on the alerts topic, to the
tenant's own alert address, and in its ingestion log — and its recovery is recorded.

The clock cannot be moved back, so the days of traffic before a silence are written the way the
webhook path writes them (`arrivals.add`, per hour); what happens next goes through the real
webhooks, settings and check handlers. SQS queues stand in for the alert addresses: each is
subscribed to the topic the service subscribed that address to.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from local.provision import physical_name
from tests.support import Faults, mailgun_event, token

HOUR = timedelta(hours=1)


def this_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def traffic(tenant: str, hours: list[datetime], events: int = 10, provider: str = "mailgun") -> None:
    """`events` single-event webhooks in each of `hours`, as the webhook path counts them."""
    from msglog import arrivals

    for at in hours:
        arrivals.add(tenant, provider, arrivals.hour_of(at), events, events)


def steady_until(last: datetime, days: int = 7) -> list[datetime]:
    """Every hour of `days` days, the last one starting at `last`."""
    return [last - k * HOUR for k in range(days * 24)]


def check(api, **event):
    return api.gateway.runtime.invoke("IngestionHealthFunction", event)


def later(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def subscriptions() -> dict[str, dict]:
    """The account's e-mail subscriptions: address -> attributes (TopicArn, FilterPolicy if any, ...)."""
    sns = boto3.client("sns")
    listed = [s for page in sns.get_paginator("list_subscriptions").paginate() for s in page["Subscriptions"]]
    return {s["Endpoint"]: sns.get_subscription_attributes(SubscriptionArn=s["SubscriptionArn"])["Attributes"]
            for s in listed if s["Protocol"] == "email"}


class Inbox:
    """A queue that receives what SNS delivers to `address` (subscribed as the service subscribed it:
    same topic, same filter if any), or everything on the operators' topic (no address)."""

    def __init__(self, topic: str, address: str | None = None) -> None:
        self.sqs = boto3.client("sqs")
        self.url = self.sqs.create_queue(QueueName=f"inbox-{uuid.uuid4().hex[:12]}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes = {}
        if address:
            service_made = subscriptions()[address]
            topic = service_made["TopicArn"]
            attributes = {"FilterPolicy": service_made["FilterPolicy"]} if "FilterPolicy" in service_made else {}
        boto3.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attributes)

    def read(self) -> list[dict]:
        """The notifications delivered since the last read: {"Subject", "Message", "MessageAttributes", …}."""
        out = []
        while got := self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", []):
            for message in got:
                out.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return out


def attribute(notification: dict, name: str) -> str | None:
    return (notification.get("MessageAttributes", {}).get(name) or {}).get("Value")


def alerts_log(api, tenant: str = "acme") -> list[tuple[str, str]]:
    """(outcome code, provider) of the tenant's ingestion-log rows about its ingestion health, oldest first."""
    reply = api.get("/v1/ingestion-log?order=asc&limit=200", auth=token(tenant, ["logs:ingestion"]))
    assert reply.status == 200, reply.raw
    return [(code, row["provider"]) for row in reply.json["items"] for code in row["outcomes"]
            if code.startswith("ALERT_")]


@pytest.fixture
def topic(aws) -> str:
    return aws["IngestionHealthFunction"]["ALERTS_TOPIC_ARN"]


def onboard(api, tenant: str, alert_email: str | None = None) -> None:
    """Mailgun credentials and, optionally, an alert address, as the tenant's admin sets them."""
    api.setup_tenant(tenant)
    if alert_email:
        reply = api.call("PATCH", "/v1/tenant", {"alert_email": alert_email}, auth=token(tenant))
        assert reply.status == 200, reply.raw


# ------------------------------------------------------------------ the incident's life
def test_silent_pair_alerts_once_recovers_and_alerts_again_later(api, topic):
    onboard(api, "acme", "ops@acme.example")
    inbox = Inbox(topic, "ops@acme.example")
    traffic("acme", steady_until(this_hour() - 4 * HOUR))  # a week of mail, every hour, until four hours ago

    first = check(api)
    assert (first["opened"], first["ongoing"], first["errors"], first["complete"]) == (1, 0, 0, True)
    [incident] = first["incidents"]
    assert incident | {"tenant": "acme", "provider": "mailgun", "state": "opened", "threshold_hours": 2} == incident
    [alert] = inbox.read()
    assert "mailgun" in alert["Subject"] and "acme" in alert["Subject"]
    assert incident["incident_id"] in alert["Message"] and "/v1/webhooks/mailgun/acme" in alert["Message"]
    assert (attribute(alert, "tenant_id"), attribute(alert, "provider"), attribute(alert, "kind")) == (
        "acme", "mailgun", "no_webhooks")
    assert alerts_log(api) == [("ALERT_NO_WEBHOOKS", "mailgun")]

    second = check(api)  # the same incident: no second alert
    assert (second["opened"], second["ongoing"]) == (0, 1)
    assert inbox.read() == [] and alerts_log(api) == [("ALERT_NO_WEBHOOKS", "mailgun")]

    message_id = api.record(recipients=[{"address": "pat@example.com"}])
    assert api.mailgun(mailgun_event("delivered", message_id=message_id)).status == 200  # webhooks are back
    third = check(api)
    assert (third["recovered"], third["opened"], third["ongoing"]) == (1, 0, 0)
    [recovered] = inbox.read()
    assert attribute(recovered, "kind") == "recovered" and incident["incident_id"] in recovered["Message"]
    assert alerts_log(api) == [("ALERT_NO_WEBHOOKS", "mailgun"), ("ALERT_RECOVERED", "mailgun")]
    assert check(api)["recovered"] == 0  # closed once

    # Five hours on, silent again: a new incident. The earlier outage's silence does not count as a
    # usual quiet spell, so the threshold is still the two hours of grace.
    fourth = check(api, now=later(5))
    [again] = fourth["incidents"]
    assert (again["state"], again["threshold_hours"]) == ("opened", 2)
    assert again["incident_id"] != incident["incident_id"]
    assert [attribute(n, "kind") for n in inbox.read()] == ["no_webhooks"]
    assert [code for code, _ in alerts_log(api)] == ["ALERT_NO_WEBHOOKS", "ALERT_RECOVERED", "ALERT_NO_WEBHOOKS"]


def test_silence_is_judged_against_the_pair_s_own_quiet_spells(api, topic):
    """A sender active twelve hours a day is quiet for twelve every night: six silent hours are
    normal for it; fifteen are not."""
    onboard(api, "acme")
    everything = Inbox(topic)
    last = this_hour() - 6 * HOUR
    traffic("acme", [last - k * HOUR for k in range(7 * 24) if k % 24 < 12])
    quiet = check(api)
    assert (quiet["opened"], quiet["too_little_history"], quiet["incidents"]) == (0, 0, [])
    assert everything.read() == []
    [incident] = check(api, now=later(10))["incidents"]
    assert (incident["state"], incident["threshold_hours"]) == ("opened", 14)  # the 12-hour night, plus 2
    assert len(everything.read()) == 1


def test_a_low_volume_pair_never_alerts(api, topic):
    onboard(api, "acme", "ops@acme.example")
    everything = Inbox(topic)
    traffic("acme", [this_hour() - k * 30 * HOUR for k in range(1, 6)], events=2)  # five odd hours in a week
    for when in (None, later(24), later(47)):
        result = check(api, **({"now": when} if when else {}))
        assert (result["pairs"], result["too_little_history"], result["opened"]) == (1, 1, 0)
    assert everything.read() == [] and alerts_log(api) == []


def test_a_dry_run_reports_and_publishes_nothing(api, topic):
    onboard(api, "acme", "ops@acme.example")
    everything = Inbox(topic)
    traffic("acme", steady_until(this_hour() - 4 * HOUR))
    preview = check(api, dry_run=True)
    assert (preview["dry_run"], preview["opened"]) == (True, 1)
    assert [i["state"] for i in preview["incidents"]] == ["would_open"]
    assert everything.read() == [] and alerts_log(api) == []
    assert check(api)["opened"] == 1  # the preview opened no incident
    assert len(everything.read()) == 1


def both_read_before_either_writes(monkeypatch):
    """Two health-check runs at once: each reads the pair's history before either writes (moto applies
    one request at a time, as DynamoDB applies each conditional write atomically)."""
    from moto.core.botocore_stubber import BotocoreStubber

    original, lock, barrier, waited = BotocoreStubber.__call__, threading.Lock(), threading.Barrier(2), set()

    def stub(self, event_name, request, **kwargs):
        with lock:
            response = original(self, event_name, request, **kwargs)
        if event_name.endswith("dynamodb.Query") and b"HEALTH" in (request.body or b"") \
                and threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            barrier.wait(timeout=60)
        return response

    monkeypatch.setattr(BotocoreStubber, "__call__", stub)


def test_two_runs_at_once_alert_once(api, topic, monkeypatch):
    from msglog import ingestion_health

    onboard(api, "acme", "ops@acme.example")
    everything = Inbox(topic)
    traffic("acme", steady_until(this_hour() - 4 * HOUR))
    both_read_before_either_writes(monkeypatch)  # the pair's history, no incident yet
    results = []
    runs = [threading.Thread(target=lambda: results.append(
        ingestion_health.run(ingestion_health.options({}), time_left=lambda: 600_000))) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    assert sorted((r["opened"], r["ongoing"], r["errors"]) for r in results) == [(0, 1, 0), (1, 0, 0)]
    assert len(everything.read()) == 1 and alerts_log(api) == [("ALERT_NO_WEBHOOKS", "mailgun")]


def test_an_alert_that_could_not_be_published_is_sent_by_the_next_run(api, topic, monkeypatch):
    onboard(api, "acme", "ops@acme.example")
    inbox = Inbox(topic, "ops@acme.example")
    traffic("acme", steady_until(this_hour() - 4 * HOUR))
    faults = Faults(monkeypatch)
    faults.fail("Publish", times=20, code="InternalError")  # SNS fails through every retry
    failed = check(api)
    assert (failed["opened"], failed["errors"], failed["complete"]) == (0, 1, False)
    assert inbox.read() == [] and alerts_log(api) == []
    faults.plan.clear()
    assert check(api)["opened"] == 1  # the incident was not left behind without its alert
    assert len(inbox.read()) == 1 and alerts_log(api) == [("ALERT_NO_WEBHOOKS", "mailgun")]


# ------------------------------------------------------------------ who receives it
def test_each_tenant_s_alert_goes_to_its_own_address_only(api, topic):
    onboard(api, "acme", "ops@acme.example")
    onboard(api, "beta", "ops@beta.example")
    acme_inbox, beta_inbox = Inbox(topic, "ops@acme.example"), Inbox(topic, "ops@beta.example")
    traffic("acme", steady_until(this_hour() - 4 * HOUR))
    traffic("beta", steady_until(this_hour()))  # beta's mail still flows
    result = check(api)
    assert [(i["tenant"], i["state"]) for i in result["incidents"]] == [("acme", "opened")]
    assert [attribute(n, "tenant_id") for n in acme_inbox.read()] == ["acme"]
    assert beta_inbox.read() == []
    assert alerts_log(api, "beta") == [] and alerts_log(api, "acme") == [("ALERT_NO_WEBHOOKS", "mailgun")]


def test_patching_the_alert_address_subscribes_it_and_releases_the_previous_one(api, topic):
    assert subscriptions() == {}
    assert api.call("PATCH", "/v1/tenant", {"alert_email": "ops@acme.example"}).status == 200
    assert list(subscriptions()) == ["ops@acme.example"]
    assert api.get("/v1/tenant").json["alert_email"] == "ops@acme.example"
    assert api.call("PATCH", "/v1/tenant", {"alert_email": "it@acme.example"}).status == 200
    assert list(subscriptions()) == ["it@acme.example"]
    assert api.call("PATCH", "/v1/tenant", {"time_zone": "Europe/Paris"}).status == 200  # other settings: no change
    assert list(subscriptions()) == ["it@acme.example"]
    # the new address gets the alerts; the previous one none
    api.setup_tenant("acme")
    traffic("acme", steady_until(this_hour() - 4 * HOUR))
    inbox = Inbox(topic, "it@acme.example")
    assert check(api)["opened"] == 1 and len(inbox.read()) == 1


def test_tenants_sharing_an_address_share_its_subscription(api, topic):
    """SNS subscribes an address once per topic: a district's desk alerted by two schools keeps one
    subscription, which goes only when the last school stops using it."""
    for tenant, address in (("acme", "desk@district.example"), ("beta", "Desk@District.example")):
        assert api.call("PATCH", "/v1/tenant", {"alert_email": address}, auth=token(tenant)).status == 200
    assert list(subscriptions()) == ["desk@district.example"]
    desk = Inbox(topic, "desk@district.example")
    assert api.call("PATCH", "/v1/tenant", {"alert_email": "ops@acme.example"}, auth=token("acme")).status == 200
    assert sorted(subscriptions()) == ["desk@district.example", "ops@acme.example"]  # beta still uses it
    for tenant in ("acme", "beta"):
        api.setup_tenant(tenant)
        traffic(tenant, steady_until(this_hour() - 4 * HOUR))
    assert check(api)["opened"] == 2
    assert [attribute(n, "tenant_id") for n in desk.read()] == ["beta"]  # acme's alert went to its new address
    assert api.call("PATCH", "/v1/tenant", {"alert_email": "ops@beta.example"}, auth=token("beta")).status == 200
    assert sorted(subscriptions()) == ["ops@acme.example", "ops@beta.example"]


def test_onboarding_with_an_alert_address_subscribes_it(api, topic):
    api.gateway.runtime.invoke("OperationsFunction", {"command": "onboard-tenant", "tenant": "lakeside",
                                                      "alert_email": "it@lakeside.example"})
    assert list(subscriptions()) == ["it@lakeside.example"]


# ------------------------------------------------------------------ the webhook path
def test_a_failing_health_counter_never_fails_a_webhook(api, monkeypatch):
    api.setup_tenant("acme")
    message_id = api.record(recipients=[{"address": "pat@example.com"}])
    faults = Faults(monkeypatch)
    # the counter's write (the webhook's only UpdateItem: its status goes through the status writer) is
    # throttled through all of botocore's attempts
    faults.fail("UpdateItem", times=9)
    reply = api.mailgun(mailgun_event("delivered", message_id=message_id))
    assert reply.status == 200 and reply.json["outcomes"] == {"LOG_OK": 1}
    assert faults.plan["UpdateItem"] == []
    faults.plan.clear()
    assert [e["event"] for e in api.get("/v1/events").json["items"]] == ["delivered"]
    assert api.get(f"/v1/messages/{message_id}").json["recipients"][0]["status"] == "delivered"
    assert "HealthCountFailed" in api.output.getvalue()  # the operator sees the counter missed it
    counters = boto3.client("dynamodb").query(
        TableName=physical_name("Table"), KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "T#acme#HEALTH#mailgun"}})["Items"]
    assert counters == []


def test_webhooks_are_counted_per_hour_with_few_writes(api, monkeypatch):
    """A busy pair does not cost a counter write per request: the first of the hour writes, the
    others join a later write."""
    api.setup_tenant("acme")
    faults = Faults(monkeypatch)  # only to count requests
    message_id = api.record(recipients=[{"address": f"p{n}@example.com"} for n in range(5)])
    before, hours = faults.calls.get("UpdateItem", 0), {this_hour()}
    for n in range(5):
        assert api.mailgun(mailgun_event("delivered", f"p{n}@example.com", message_id=message_id)).status == 200
    hours.add(this_hour())  # a new hour on the way writes its own counter at once
    updates = faults.calls.get("UpdateItem", 0) - before
    assert updates == len(hours)  # a counter write per hour (the statuses: the status writer's transactions)
    counters = boto3.client("dynamodb").query(
        TableName=physical_name("Table"), KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "T#acme#HEALTH#mailgun"}})["Items"]
    assert len(counters) == len(hours) and counters[0]["requests"] == {"N": "1"}  # the others wait for a later write


def test_bad_input_is_refused_naming_the_field(api):
    for event, field in (({"dry_run": "maybe"}, "dry_run"), ({"now": later(72)}, "now"), ({"grace_hours": 0},
                         "grace_hours"), ({"colour": "red"}, "colour")):
        with pytest.raises(ValueError, match=field):
            check(api, **event)


# ------------------------------------------------------------------ many tenants, and SNS's quotas
# Amazon SNS refuses a topic's 201st filter policy; moto does not, so the fixture below does, scaled
# down to 5 (what is proved does not depend on the number: no topic's filters grow with the tenants).
SNS_FILTER_POLICIES_PER_TOPIC = 5


@pytest.fixture
def sns_filter_policy_quota(monkeypatch):
    """moto refusing a topic's filter policy past the quota, as Amazon SNS does past 200."""
    from moto.sns.exceptions import SNSException
    from moto.sns.models import SNSBackend

    class FilterPolicyLimitExceeded(SNSException):
        code = "FilterPolicyLimitExceeded"
        message = "Filter policy limit exceeded"

    set_attribute = SNSBackend.set_subscription_attributes

    def limited(self, arn, name, value):
        if name == "FilterPolicy" and value:
            topic = self.subscriptions[arn].topic.arn
            filtered = [s for s in self.subscriptions.values()
                        if s.topic.arn == topic and s.arn != arn and s.attributes.get("FilterPolicy")]
            if len(filtered) >= SNS_FILTER_POLICIES_PER_TOPIC:
                raise FilterPolicyLimitExceeded()
        return set_attribute(self, arn, name, value)

    monkeypatch.setattr(SNSBackend, "set_subscription_attributes", limited)


def test_alert_addresses_past_sns_s_filter_policy_quota_are_subscribed_like_the_first(api, topic,
                                                                                      sns_filter_policy_quota):
    """Thousands of tenants may each have an alert address: none is refused for SNS's filter
    policies per topic (the 201st used to get a 500), and each gets only its own tenant's alerts."""
    count = SNS_FILTER_POLICIES_PER_TOPIC + 1
    for n in range(count):
        reply = api.call("PATCH", "/v1/tenant", {"alert_email": f"ops@school-{n}.example"}, auth=token(f"school-{n}"))
        assert reply.status == 200, (n, reply.raw)
    assert len(subscriptions()) == count
    last = f"school-{count - 1}"
    inbox, neighbour = Inbox(topic, f"ops@{last}.example"), Inbox(topic, "ops@school-0.example")
    api.setup_tenant(last)
    traffic(last, steady_until(this_hour() - 4 * HOUR))
    assert check(api)["opened"] == 1
    assert [attribute(n, "tenant_id") for n in inbox.read()] == [last]
    assert neighbour.read() == []


@pytest.mark.parametrize(("operation", "code"), [("CreateTopic", "TopicLimitExceeded"),
                                                 ("Subscribe", "SubscriptionLimitExceeded")])
def test_an_sns_quota_reached_is_a_clear_503_and_changes_nothing(api, monkeypatch, operation, code):
    assert api.call("PATCH", "/v1/tenant", {"alert_email": "ops@acme.example"}).status == 200
    Faults(monkeypatch).fail(operation, code=code)
    reply = api.call("PATCH", "/v1/tenant", {"alert_email": "it@acme.example", "time_zone": "Europe/Paris"})
    assert reply.status == 503, reply.raw
    assert reply.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in reply.json["errors"]] == ["alert_email"]
    assert "quota" in reply.json["detail"]
    settings = api.get("/v1/tenant").json
    assert settings["alert_email"] == "ops@acme.example" and settings.get("time_zone") != "Europe/Paris"
    assert list(subscriptions()) == ["ops@acme.example"]  # the previous address still gets the alerts


def test_onboarding_past_an_sns_quota_answers_the_operator_which_field_and_onboards_nothing(api, monkeypatch):
    """README, Deploy: the first tenant is onboarded with `sam remote invoke OperationsFunction`; a quota
    reached (or an address SNS refuses) is an answer naming alert_email, not a crashed invocation."""
    faults = Faults(monkeypatch)
    faults.fail("CreateTopic", code="TopicLimitExceeded")
    answer = api.gateway.runtime.invoke("OperationsFunction", {
        "command": "onboard-tenant", "tenant": "lakeside", "time_zone": "Europe/Paris",
        "alert_email": "it@lakeside.example"})
    assert answer["code"] == "ALERTS_QUOTA" and "quota" in answer["error"], answer
    assert [f["field"] for f in answer["fields"]] == ["alert_email"]
    assert api.get("/v1/tenant", auth=token("lakeside")).json.get("time_zone") != "Europe/Paris"
    assert subscriptions() == {}
    faults.plan.clear()  # the quota raised: the same command onboards
    done = api.gateway.runtime.invoke("OperationsFunction", {
        "command": "onboard-tenant", "tenant": "lakeside", "time_zone": "Europe/Paris",
        "alert_email": "it@lakeside.example"})
    assert done["settings"]["alert_email"] == "it@lakeside.example"
    assert list(subscriptions()) == ["it@lakeside.example"]


# ------------------------------------------------------------------ what the ingestion-log screen shows
def health(api, tenant: str = "acme", rights: tuple[str, ...] = ("logs:ingestion",)) -> dict[str, dict]:
    reply = api.call("GET", "/v1/ingestion-health", auth=token(tenant, rights=rights))
    assert reply.status == 200, reply.raw
    return {shown["provider"]: shown for shown in reply.json["providers"]}


def test_the_screen_reads_each_provider_s_state_as_the_check_judges_it(api, topic):
    onboard(api, "acme")
    api.setup_tenant("beta")
    assert health(api)["mailgun"] | {"state": "learning", "last_webhook_hour": None, "incident": None} == \
        health(api)["mailgun"]  # configured, no history yet: nothing to judge against, no alert will come

    traffic("acme", steady_until(this_hour() - 4 * HOUR))  # then silent for four hours, two past usual
    silent = health(api)["mailgun"]
    assert (silent["state"], silent["threshold_hours"], silent["incident"]) == ("silent", 2, None)
    assert silent["last_webhook_hour"].startswith((this_hour() - 4 * HOUR).strftime("%Y-%m-%dT%H"))

    [incident] = check(api)["incidents"]
    alerted = health(api)["mailgun"]
    assert alerted["state"] == "alerted" and alerted["incident"]["incident_id"] == incident["incident_id"]
    assert health(api, "beta")["mailgun"]["state"] == "learning"  # another tenant's incident is not beta's

    message_id = api.record(recipients=[{"address": "pat@example.com"}])
    assert api.mailgun(mailgun_event("delivered", message_id=message_id)).status == 200
    assert health(api)["mailgun"]["state"] == "alerted"  # until the check records the recovery
    check(api)
    assert (health(api)["mailgun"]["state"], health(api)["mailgun"]["incident"]) == ("logging", None)
    assert api.call("GET", "/v1/ingestion-health", auth=token("acme", rights=("logs:sent",))).status == 403


def test_a_signing_key_wrong_from_the_start_shows_as_refused_until_a_request_passes(api, topic):
    """A new tenant has no history to fall silent from: what it has is refused requests (NOLOG_BAD_SIGNATURE)."""
    onboard(api, "acme")
    message_id = api.record(recipients=[{"address": "pat@example.com"}])
    wrong_key = api.mailgun(mailgun_event("delivered", message_id=message_id), key="a-key-set-wrong-at-mailgun-0123")
    assert wrong_key.status == 401
    shown = health(api)["mailgun"]
    assert shown["state"] == "refused" and shown["refused_since_hour"].startswith(this_hour().strftime("%Y-%m-%dT%H"))
    assert health(api, "beta" if api.setup_tenant("beta") is None else "beta")["mailgun"]["state"] == "learning"

    assert api.mailgun(mailgun_event("delivered", message_id=message_id)).status == 200  # the key is fixed
    assert (health(api)["mailgun"]["state"], health(api)["mailgun"]["refused_since_hour"]) == ("learning", None)
