"""Each provider API's client (msglog.provider_apis) against its fake (local/fakes): request shapes,
authentication, paging, rate limits and failures as the providers' references describe them."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from local.fakes.mailgun import FakeMailgun
from local.fakes.postmark import FakePostmark
from local.fakes.sendgrid import FakeSendgrid
from local.fakes.twilio import FakeTwilio
from msglog import provider_apis
from msglog.provider_apis import (
    Budget,
    BudgetSpent,
    Interrupted,
    NotAllowed,
    ProviderFailed,
    RateLimited,
    mailgun,
    postmark,
    sendgrid,
    twilio,
)
from tests.support import mailgun_event

MG = {"api_key": "key-mailgun-private-0001", "domain": "mg.example.org", "region": "eu"}
SID = "AC" + "b" * 32


@pytest.fixture
def fake(request, monkeypatch):
    made = request.param().start()
    name = type(made).__name__.removeprefix("Fake").upper()
    monkeypatch.setenv(f"{name}_API_URL", made.url)
    provider_apis.reset()
    yield made
    made.stop()


def budget() -> Budget:
    return Budget(calls=50, seconds=30)


@pytest.mark.parametrize("fake", [lambda: FakeMailgun(MG["api_key"], MG["domain"])], indirect=True)
def test_mailgun_events_are_paged_by_paging_next_and_read_as_its_webhooks(fake):
    at = time.time() - 3600
    fake.add(*[mailgun_event("delivered", f"r{n}@example.com", at=at + n, event_id=f"e{n}",
                             provider_message_id="m1@mg.example.org") for n in range(301)])
    fake.add(mailgun_event("delivered", "other@example.com", at=at, provider_message_id="m2@mg.example.org"))
    spent = budget()
    events = mailgun.message_events(MG, "m1@mg.example.org", spent)
    assert len(events) == 301 and {e.event_id for e in events} == {f"mailgun.e{n}" for n in range(301)}
    assert spent.used == 3  # 300, 1, then the empty page that ends it
    first = fake.requests[0]
    assert first.path == "/v3/mg.example.org/events" and first.query["message-id"] == "m1@mg.example.org"
    assert first.basic() == ("api", MG["api_key"]) and first.query["limit"] == "300"
    with pytest.raises(NotAllowed):
        mailgun.message_events({**MG, "api_key": "key-wrong-000000"}, "m1@mg.example.org", budget())
    with pytest.raises(Interrupted) as cut:  # stopped after its first page: the page read is kept
        mailgun.message_events(MG, "m1@mg.example.org", Budget(calls=1, seconds=30))
    assert isinstance(cut.value.stop, BudgetSpent) and len(cut.value.events) == 300


@pytest.mark.parametrize("fake", [lambda: FakeTwilio(SID, "twilio-token-1")], indirect=True)
def test_a_429_carries_retry_after_and_other_failures_are_named(fake):
    fake.set("SM" + "1" * 32, "+15550100001", "delivered")
    credentials = {"account_sid": SID, "auth_token": "twilio-token-1"}
    fake.fail(429, retry_after=12)
    with pytest.raises(RateLimited) as limited:
        twilio.message_events(credentials, "SM" + "1" * 32, budget())
    assert limited.value.retry_after == 12
    fake.fail(503)
    with pytest.raises(ProviderFailed):
        twilio.message_events(credentials, "SM" + "1" * 32, budget())
    [event] = twilio.message_events(credentials, "SM" + "1" * 32, budget())
    assert (event.event, event.event_id, event.recipient) == ("delivered", f"twilio.{'SM' + '1' * 32}.delivered",
                                                              "+15550100001")
    assert twilio.message_events(credentials, "SM" + "9" * 32, budget()) == []  # 404: Twilio does not know it
    assert fake.requests[-1].path == f"/2010-04-01/Accounts/{SID}/Messages/{'SM' + '9' * 32}.json"


@pytest.mark.parametrize("fake", [lambda: FakeSendgrid("SG.key-1")], indirect=True)
def test_sendgrid_activity_is_found_by_x_message_id_with_a_bearer_key(fake):
    fake.add_message("xid1.filter0001-1.0", "a@example.com")
    fake.add_message("xid1.filter0001-2.0", "b@example.com")
    fake.add_event("xid1.filter0001-1.0", "delivered", "2026-12-03T10:00:00Z")
    fake.add_event("xid1.filter0001-2.0", "bounced", "2026-12-03T10:00:00Z", bounce_type="blocked", reason="blocked")
    events = sendgrid.message_events({"api_key": "SG.key-1"}, "xid1", budget())
    assert sorted((e.recipient, e.event, e.provider_message_id) for e in events) == [
        ("a@example.com", "delivered", "xid1"), ("b@example.com", "failed", "xid1")]
    assert fake.requests[0].query["query"] == "msg_id LIKE 'xid1%'"
    assert fake.requests[0].headers["authorization"] == "Bearer SG.key-1"


@pytest.mark.parametrize("fake", [lambda: FakePostmark("pm-token-1")], indirect=True)
def test_postmark_details_and_a_window_search(fake):
    fake.add_message("pm-1", ["a@example.com"], "2026-12-03T10:00:00Z")
    fake.add_event("pm-1", "a@example.com", "Bounced", "2026-12-03T10:00:03Z", BounceID="42", Summary="no user")
    fake.add_bounce(42, "a@example.com", "HardBounce", message_id="pm-1", details="550 5.1.1 no user")
    [bounce] = postmark.message_events({"server_token": "pm-token-1"}, "pm-1", budget())
    assert (bounce.event, bounce.event_id) == ("bounced", "postmark.Bounce.42")  # its webhook's id
    assert (bounce.error_code, bounce.reason) == ("1", "550 5.1.1 no user")  # the bounce's, GET /bounces/42
    with pytest.raises(BudgetSpent):  # the bounce's call is one of the budget's: a second is not there
        postmark.message_events({"server_token": "pm-token-1"}, "pm-1", Budget(1, 30.0))
    assert postmark.message_events({"server_token": "pm-token-1"}, "pm-unknown", budget()) == []  # 422, 701
    start, end = datetime(2026, 12, 3, tzinfo=UTC), datetime(2026, 12, 4, tzinfo=UTC)
    events, position = postmark.window({"server_token": "pm-token-1"}, start, end, budget(), None)
    assert events == [] and position == "-|pm-1"
    events, position = postmark.window({"server_token": "pm-token-1"}, start, end, budget(), position)
    assert [e.event for e in events] == ["bounced"] and position is None


def test_each_api_defaults_to_the_providers_own_url(monkeypatch):
    for name in ("MAILGUN", "SENDGRID", "POSTMARK", "TWILIO"):
        monkeypatch.delenv(f"{name}_API_URL", raising=False)
    assert provider_apis.base_url("mailgun", mailgun.DEFAULT_URL["eu"]) == "https://api.eu.mailgun.net"
    assert provider_apis.base_url("sendgrid", sendgrid.DEFAULT_URL) == "https://api.sendgrid.com"
    assert provider_apis.base_url("postmark", postmark.DEFAULT_URL) == "https://api.postmarkapp.com"
    assert provider_apis.base_url("twilio", twilio.DEFAULT_URL) == "https://api.twilio.com"
