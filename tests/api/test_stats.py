"""Account logs (seed 002): sent and failed counts per day, campaign and customer, in the tenant's
time zone, right under retried webhooks; account transactions; the enterprise roll-up."""

from __future__ import annotations

import pytest

from tests.support import Faults, mailgun_event, token

READER = token(rights=["stats:read"])
RANGE = "from=2026-03-01T00:00:00Z&to=2026-03-31T23:59:59Z"


def send(api, tenant="acme", channel="email", addresses=("a@example.com",), **message):
    if channel == "sms":
        addresses = [f"+1555010{i:04d}" for i in range(len(addresses))]
    message.setdefault("created_at", "2026-03-10T12:00:00Z")
    return api.record(tenant, channel=channel, recipients=[{"address": a} for a in addresses], **message)


def stats(api, query="", tenant="acme"):
    reply = api.get(f"/v1/stats?{RANGE}&{query}", auth=token(tenant, ["stats:read"]))
    assert reply.status == 200, reply.json
    return reply.json


def bounce(address, message_id, **kw):
    return mailgun_event("failed", address, message_id=message_id, severity="permanent", reason="bounce", **kw)


def test_counts_per_day_and_channel_are_right_under_retries(api):
    api.setup_tenant("acme")
    snow = send(api, addresses=("a@example.com", "b@example.com", "c@example.com"), subject="Snow day",
                sender={"id": "u-1", "name": "Ann Office"}, lists=["Parents"])
    send(api, addresses=("d@example.com", "e@example.com"), subject="Snow day", sender={"id": "u-2"},
         lists=["Staff"])
    send(api, channel="sms", addresses=("x", "y"), subject="Snow day")
    send(api, subject="Newsletter", created_at="2026-03-11T08:00:00Z")
    for _ in range(3):  # a provider's retries of one bounce, then a second failure of the same recipient
        api.mailgun(bounce("a@example.com", snow, id="bounce-1"))
    api.mailgun(mailgun_event("failed", "a@example.com", message_id=snow, severity="permanent", reason="old"))
    api.mailgun(mailgun_event("failed", "b@example.com", message_id=snow, severity="temporary"))  # not a failure
    for _ in range(2):
        api.mailgun(mailgun_event("delivered", "c@example.com", message_id=snow, id="delivered-c"))
    api.mailgun(mailgun_event("opened", "c@example.com", message_id=snow))  # still one sent
    result = stats(api)
    # recorded as sent, the recipients are queued until their provider says they left (seed 002)
    assert result["totals"]["email"] == {"messages": 3, "recipients": 6, "sent": 1, "failed": 1}
    assert result["totals"]["sms"] == {"messages": 1, "recipients": 2, "sent": 0, "failed": 0}
    assert [(i["date"], i["channels"]["email"]["recipients"]) for i in result["items"]] == [
        ("2026-03-11", 1), ("2026-03-10", 5)]
    campaigns = stats(api, "group=campaign&channel=email")["items"]
    assert [(c["campaign"], c["recipients"], c["sent"], c["failed"], c["sent_by"], c["lists"], c["first_date"])
            for c in campaigns] == [("Newsletter", 1, 0, 0, [], [], "2026-03-11"),
                                    ("Snow day", 5, 1, 1, ["Ann Office", "u-2"], ["Parents", "Staff"], "2026-03-10")]


@pytest.mark.parametrize("direct_max", ["8", "0"], ids=["updated at once", "by the status writer"])
def test_sent_is_what_left_the_server_and_failed_what_failed(api_with, direct_max):
    """Seed 002: sent = sent, delivered, opened/read, clicked, unsubscribed, complained; failed = rank 5;
    accepted, queued, scheduled and deferred are neither."""
    api = api_with(STATUS_DIRECT_MAX=direct_max)
    api.setup_tenant("acme")
    later = send(api, addresses=("a@example.com", "b@example.com", "c@example.com", "d@example.com"),
                 subject="Field trip", status="scheduled", scheduled_at="2026-03-12T08:00:00Z")
    send(api, addresses=("e@example.com",), subject="Field trip")  # sent: queued at the provider
    nothing = {"messages": 2, "recipients": 5, "sent": 0, "failed": 0}
    assert stats(api)["totals"]["email"] == nothing
    api.mailgun(mailgun_event("delivered", "a@example.com", message_id=later))
    api.mailgun(mailgun_event("failed", "b@example.com", message_id=later, severity="temporary"))  # deferred
    api.mailgun(bounce("c@example.com", later))
    [campaign] = stats(api, "group=campaign")["items"]
    assert (campaign["recipients"], campaign["sent"], campaign["failed"]) == (5, 1, 1)
    api.mailgun(mailgun_event("clicked", "a@example.com", message_id=later))  # a move within sent
    api.mailgun(mailgun_event("delivered", "b@example.com", message_id=later))
    assert stats(api)["totals"]["email"] == {"messages": 2, "recipients": 5, "sent": 2, "failed": 1}
    assert [(day["date"], day["channels"]["email"]["sent"]) for day in stats(api)["items"]] == [("2026-03-10", 2)]


def test_days_are_the_tenants_days(api):
    api.call("PATCH", "/v1/tenant", {"time_zone": "America/Chicago"})
    send(api, created_at="2026-03-02T03:00:00Z")  # 21:00 on March 1st in Chicago
    assert [i["date"] for i in stats(api)["items"]] == ["2026-03-01"]
    assert stats(api)["time_zone"] == "America/Chicago"


def test_a_failure_before_its_message_and_a_failed_send_count_once(api):
    api.setup_tenant("acme")
    early = bounce("late@example.com", None, id="early-bounce")
    early["message"] = {"headers": {"message-id": "pm-1@mg"}}
    api.mailgun(early)
    api.post("/v1/messages", {"channel": "email", "created_at": "2026-03-10T12:00:00Z",
                              "recipients": [{"address": "late@example.com", "provider_message_id": "pm-1@mg"}]},
             auth=token(rights=["messages:write"]))
    send(api, addresses=("z@example.com",), status="error")
    api.mailgun(early)  # the retry, now matched
    assert stats(api)["totals"]["email"] == {"messages": 2, "recipients": 2, "sent": 0, "failed": 2}


def test_an_idempotent_retry_of_a_message_counts_once(api):
    body = {"channel": "email", "created_at": "2026-03-10T12:00:00Z", "recipients": [{"address": "a@example.com"}]}
    for _ in range(2):
        api.post("/v1/messages", body, auth=token(rights=["messages:write"]), headers={"Idempotency-Key": "k-1"})
    api.post(f"/v1/messages/{send(api)}/recipients", {"recipients": [{"address": "b@example.com"}]},
             auth=token(rights=["messages:write"]))
    assert stats(api)["totals"]["email"]["messages"] == 2
    assert stats(api)["totals"]["email"]["recipients"] == 3


def test_a_failure_whose_count_is_refused_at_first_is_counted_once(api, monkeypatch):
    """A bounce's failure counts in the status writer's transaction (msglog.counts): DynamoDB cancelling it
    (a conflict) sends the batch back, and it and the provider's retry of the bounce count it once."""
    api.setup_tenant("acme")
    message_id = send(api)
    api.settle = False
    assert api.mailgun(bounce("a@example.com", message_id, id="bounce-1")).status == 200
    faults = Faults(monkeypatch)
    faults.fail("TransactWriteItems", code="TransactionCanceledException", fields={"CancellationReasons": [
        {"Code": "None"}, {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]})
    assert api.settle_statuses() > 1  # the batch, then again
    assert faults.plan["TransactWriteItems"] == []
    assert api.mailgun(bounce("a@example.com", message_id, id="bounce-1")).status == 200
    api.settle_statuses()
    assert stats(api)["totals"]["email"] == {"messages": 1, "recipients": 1, "sent": 0, "failed": 1}


def test_enterprise_sees_its_linked_customers_only(api):
    send(api, "school-a", addresses=("a@example.com", "b@example.com"))
    send(api, "school-b", channel="sms", addresses=("x",))
    send(api, "school-c")
    linked = api.gateway.runtime.invoke("OperationsFunction", {"command": "link-customers", "enterprise": "district",
                                                               "customers": ["school-a", "school-b"]})
    assert linked == {"enterprise": "district", "customers": ["school-a", "school-b"]}
    rollup = stats(api, "group=customer", tenant="district")
    assert [(i["customer"], i["channels"]["email"]["recipients"], i["channels"]["sms"]["recipients"])
            for i in rollup["items"]] == [("school-a", 2, 0), ("school-b", 0, 1)]
    assert rollup["totals"]["email"]["recipients"] == 2
    assert stats(api, "customer=school-a", tenant="district")["totals"]["email"]["recipients"] == 2
    assert api.get(f"/v1/stats?{RANGE}&customer=school-c", auth=token("district", ["stats:read"])).status == 404
    assert api.get(f"/v1/stats?{RANGE}&customer=school-a", auth=token("school-b", ["stats:read"])).status == 404
    assert stats(api, tenant="district")["totals"]["email"]["recipients"] == 0  # its own sends: none


def test_transactions_are_posted_by_admins_and_read_with_stats_rights(api):
    purchase = {"type": "package", "channel": "sms", "credits": 5000, "amount": "49.90", "currency": "USD",
                "description": "SMS 5k", "at": "2026-03-05T10:00:00Z", "id": "inv-1"}
    assert api.post("/v1/transactions", purchase, auth=READER).status == 403
    assert api.post("/v1/transactions", purchase, auth=token("school-a")).status == 201
    assert api.post("/v1/transactions", purchase, auth=token("school-a")).status == 200  # a retry
    api.post("/v1/transactions", {"type": "top-up", "credits": 100}, auth=token("school-a"))
    rows = api.get("/v1/transactions?type=package", auth=token("school-a", ["stats:read"])).json["items"]
    assert [(r["type"], r["credits"], r["amount"], r["currency"], r["channel"]) for r in rows] == [
        ("package", 5000, "49.90", "USD", "sms")]
    api.gateway.runtime.invoke("OperationsFunction", {"command": "link-customers", "enterprise": "district",
                                                      "customers": ["school-a"]})
    seen = api.get("/v1/transactions?customer=school-a", auth=token("district", ["stats:read"])).json["items"]
    assert sorted(r["type"] for r in seen) == ["package", "top-up"]
    assert api.get("/v1/transactions?customer=school-b", auth=token("district", ["stats:read"])).status == 404
    assert api.post("/v1/transactions", {"type": "refund"}, auth=token("school-a")).fields == ["type"]


def test_bad_stats_requests_name_the_field(api):
    assert api.get("/v1/stats?from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", auth=READER).fields == ["from"]
    assert api.get("/v1/stats?group=week", auth=READER).fields == ["group"]
    assert api.get("/v1/stats?channel=fax", auth=READER).fields == ["channel"]
    assert api.get("/v1/stats", auth=token(rights=["logs:sent"])).status == 403


def test_an_enterprise_rolls_up_every_linked_customers_transactions_shown_by_name(api):
    for tenant, n in (("school-a", 3), ("school-b", 2), ("school-c", 1)):
        for i in range(n):
            assert api.post("/v1/transactions", {"type": "package", "credits": 100 * (i + 1), "id": f"{tenant}-{i}",
                                                 "at": f"2026-03-0{i + 1}T{10 + n}:00:00Z"},
                            auth=token(tenant)).status == 201
    assert api.call("PATCH", "/v1/tenant", {"name": "Adams Elementary"}, auth=token("school-a")).status == 200
    api.gateway.runtime.invoke("OperationsFunction", {"command": "link-customers", "enterprise": "district",
                                                      "customers": ["school-a", "school-b"]})
    district = token("district", ["stats:read"])
    rows, cursor = [], None
    while True:  # pages of two, merged by time over both customers' shards
        reply = api.get("/v1/transactions?customer=*&limit=2&order=asc" + (f"&cursor={cursor}" if cursor else ""),
                        auth=district)
        assert reply.status == 200, reply.json
        rows += reply.json["items"]
        if not (cursor := reply.json["next_cursor"]):
            break
    assert [(r["customer"], r["customer_name"], r["credits"]) for r in rows] == [
        ("school-b", "school-b", 100), ("school-a", "Adams Elementary", 100), ("school-b", "school-b", 200),
        ("school-a", "Adams Elementary", 200), ("school-a", "Adams Elementary", 300)]  # by time; school-c is not linked
    assert api.get("/v1/transactions?customer=*", auth=token("school-c", ["stats:read"])).status == 404
    csv = api.get("/v1/transactions?customer=*&format=csv", auth=district)
    assert csv.status == 200 and b"Adams Elementary" in csv.raw


def test_the_customer_roll_up_of_statistics_shows_customers_by_name(api):
    send(api, "school-a")
    send(api, "school-b")
    assert api.call("PATCH", "/v1/tenant", {"name": "Adams Elementary"}, auth=token("school-a")).status == 200
    api.gateway.runtime.invoke("OperationsFunction", {"command": "link-customers", "enterprise": "district",
                                                      "customers": ["school-a", "school-b"]})
    rollup = stats(api, "group=customer", tenant="district")
    assert [(i["customer"], i["customer_name"]) for i in rollup["items"]] == [
        ("school-a", "Adams Elementary"), ("school-b", "school-b")]
    assert stats(api, "customer=*", tenant="district")["totals"]["email"]["recipients"] == 2


def test_the_roll_up_counts_each_customers_sent_as_what_left_their_server(api):
    api.setup_tenant("school-a")
    delivered = send(api, "school-a", addresses=("a@example.com", "b@example.com"))
    send(api, "school-b", status="scheduled", scheduled_at="2026-03-12T08:00:00Z")
    delivery = mailgun_event("delivered", "a@example.com", message_id=delivered)
    assert api.mailgun(delivery, tenant="school-a").status == 200
    api.gateway.runtime.invoke("OperationsFunction", {"command": "link-customers", "enterprise": "district",
                                                      "customers": ["school-a", "school-b"]})
    rollup = stats(api, "group=customer", tenant="district")
    assert [(i["customer"], i["channels"]["email"]["recipients"], i["channels"]["email"]["sent"])
            for i in rollup["items"]] == [("school-a", 2, 1), ("school-b", 1, 0)]
    assert stats(api, "customer=*", tenant="district")["totals"]["email"] == {
        "messages": 2, "recipients": 3, "sent": 1, "failed": 0}


def test_a_roll_up_of_too_many_customers_is_refused_naming_customer(api):
    api.gateway.runtime.invoke("OperationsFunction", {"command": "link-customers", "enterprise": "district",
                                                      "customers": [f"school-{n}" for n in range(51)]})
    reply = api.get("/v1/transactions?customer=*", auth=token("district", ["stats:read"]))
    assert reply.status == 400 and reply.fields == ["customer"] and "name one customer" in reply.json["detail"]
    assert api.get("/v1/transactions?customer=school-7", auth=token("district", ["stats:read"])).status == 200
