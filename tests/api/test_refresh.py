"""POST /v1/messages/{id}/refresh: a message whose webhooks never came converges on what its provider
knows (fake provider APIs on 127.0.0.1, local/fakes), through the webhooks' own ingestion: the same keys,
so a refresh, a second refresh and a late webhook never count anything twice."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from tests.api.conftest import MG
from tests.support import mailgun_event, token

VIEWER = token(rights=["logs:sent"], sub="u-viewer")
LOGS = token(rights=["logs:ingestion", "logs:sent", "logs:provider", "suppressions:read"])
PMID = "20261203120000.1.ABCDEF@mg.example.org"


def _statuses(api, message_id):
    detail = api.get(f"/v1/messages/{message_id}", auth=LOGS).json
    return {r["address"]: r["status"] for r in detail["recipients"]}


def _ingestion_rows(api):
    return api.get("/v1/ingestion-log?limit=100", auth=LOGS).json["items"]


def _mailgun_history(message_id):
    """What Mailgun knows of a two-recipient send, as its Events API lists it (webhooks never came)."""
    at = time.time() - 600
    common = {"provider_message_id": PMID}
    return [
        mailgun_event("accepted", "pat@example.com", at=at, event_id="acc-pat", **common),
        mailgun_event("delivered", "pat@example.com", at=at + 5, event_id="dlv-pat", **common),
        mailgun_event("opened", "pat@example.com", at=at + 60, event_id="opn-pat", **common),
        mailgun_event("accepted", "gone@example.com", at=at, event_id="acc-gone", **common),
        mailgun_event("failed", "gone@example.com", at=at + 7, event_id="fail-gone", severity="permanent",
                      reason="bounce", **{"delivery-status": {"code": 550, "message": "5.1.1 no such user"}}, **common),
    ]


def test_a_message_whose_webhooks_never_came_is_refreshed_to_its_true_status_once(provider_api, fakes):
    api = provider_api
    message_id = api.record(provider="mailgun", recipients=[
        {"address": "pat@example.com", "provider_message_id": PMID},
        {"address": "gone@example.com", "provider_message_id": PMID}])
    history = _mailgun_history(message_id)
    fakes["mailgun"].add(*history)
    assert set(_statuses(api, message_id).values()) == {"queued"}

    first = api.post(f"/v1/messages/{message_id}/refresh", auth=VIEWER)
    assert first.status == 200, first.json
    assert first.json["complete"] is True and first.json["changed"] == 2
    assert {(r["address"], r["status_before"], r["status_after"]) for r in first.json["recipients"]} == {
        ("pat@example.com", "queued", "opened"), ("gone@example.com", "queued", "bounced")}
    assert first.json["outcomes"] == {"LOG_RECOVERED": 5}
    assert _statuses(api, message_id) == {"pat@example.com": "opened", "gone@example.com": "bounced"}
    assert api.get("/v1/suppressions/gone@example.com", auth=LOGS).json["reason"] == "bounce"
    rows = _ingestion_rows(api)
    assert [(r["provider"], r["outcomes"]) for r in rows] == [("mailgun", {"LOG_RECOVERED": 5})]
    counts = api.get(f"/v1/messages/{message_id}", auth=LOGS).json["counts"]

    second = api.post(f"/v1/messages/{message_id}/refresh", auth=VIEWER)
    assert second.json["complete"] is True and second.json["changed"] == 0
    assert second.json["outcomes"] == {"NOLOG_DUPLICATE": 5}
    assert len(_ingestion_rows(api)) == 1  # nothing new: no row
    assert api.get(f"/v1/messages/{message_id}", auth=LOGS).json["counts"] == counts
    events, _ = api.get(f"/v1/events?message_id={message_id}&limit=50", auth=LOGS).json["items"], None
    assert len(events) == 5

    # the webhooks, arriving late after all, are the same events: duplicates, nothing counted again
    for event_data in history:
        assert api.mailgun(event_data).json["outcomes"] == {"NOLOG_DUPLICATE": 1}
    assert api.get(f"/v1/messages/{message_id}", auth=LOGS).json["counts"] == counts
    assert len(api.get(f"/v1/events?message_id={message_id}&limit=50", auth=LOGS).json["items"]) == 5


def test_the_detail_read_right_after_a_refresh_shows_what_it_changed(provider_api, fakes):
    """The console reads the detail as soon as "Refresh status" answers: no status writer has run yet."""
    api = provider_api
    message_id = api.record(provider="mailgun", recipients=[
        {"address": "pat@example.com", "provider_message_id": PMID},
        {"address": "gone@example.com", "provider_message_id": PMID}])
    fakes["mailgun"].add(*_mailgun_history(message_id))
    api.settle = False
    assert api.post(f"/v1/messages/{message_id}/refresh", auth=VIEWER).json["changed"] == 2
    assert _statuses(api, message_id) == {"pat@example.com": "opened", "gone@example.com": "bounced"}


def test_a_rate_limit_half_way_says_what_is_left_and_a_retry_completes(provider_api, fakes):
    api = provider_api
    sids = {f"+1555010000{n}": f"SM{n:032x}" for n in range(1, 4)}
    message_id = api.record(channel="sms", provider="twilio", recipients=[
        {"address": number, "provider_message_id": sid} for number, sid in sids.items()])
    for number, sid in sids.items():
        fakes["twilio"].set(sid, number, "delivered" if number.endswith("1") else "undelivered", error_code=(
            None if number.endswith("1") else 30003))
    fakes["twilio"].fail(429, after=1, retry_after=7)

    partial = api.post(f"/v1/messages/{message_id}/refresh", auth=VIEWER).json
    assert partial["complete"] is False and partial["retry_after"] == 7 and "rate limiting" in partial["detail"]
    assert [(r["address"], r["status_after"]) for r in partial["recipients"]] == [("+15550100001", "delivered")]
    assert sorted(r["address"] for r in partial["not_asked"]) == ["+15550100002", "+15550100003"]

    done = api.post(f"/v1/messages/{message_id}/refresh", auth=VIEWER).json
    assert done["complete"] is True and done["not_asked"] == []
    assert {r["address"]: (r["status_after"], r["changed"]) for r in done["recipients"]} == {
        "+15550100001": ("delivered", False), "+15550100002": ("undelivered", True),
        "+15550100003": ("undelivered", True)}
    assert done["outcomes"] == {"NOLOG_DUPLICATE": 1, "LOG_RECOVERED": 2}
    assert _statuses(api, message_id) == {"+15550100001": "delivered", "+15550100002": "undelivered",
                                          "+15550100003": "undelivered"}
    recovered = sum(r["outcomes"].get("LOG_RECOVERED", 0) for r in _ingestion_rows(api))
    assert recovered == 3


def test_sendgrid_and_postmark_messages_are_refreshed_from_their_apis(provider_api, fakes):
    api = provider_api
    sendgrid_id = api.record(provider="sendgrid", recipients=[
        {"address": "pat@example.com", "provider_message_id": "Xmsg14c5d75ce93"}])
    fakes["sendgrid"].add_message("Xmsg14c5d75ce93.filter0001p1las1-16816-5A023E36-1.0", "pat@example.com")
    fakes["sendgrid"].add_event("Xmsg14c5d75ce93.filter0001p1las1-16816-5A023E36-1.0", "processed",
                                "2026-12-03T10:00:00Z")
    fakes["sendgrid"].add_event("Xmsg14c5d75ce93.filter0001p1las1-16816-5A023E36-1.0", "bounced",
                                "2026-12-03T10:00:05Z", reason="550 5.1.1 unknown user", bounce_type="bounced")
    postmark_id = api.record(provider="postmark", recipients=[
        {"address": "sam@example.com", "provider_message_id": "883953f4-6105-42a2-a16a-77a8eac79483"}])
    fakes["postmark"].add_message("883953f4-6105-42a2-a16a-77a8eac79483", ["sam@example.com"],
                                  "2026-12-03T10:00:00Z")
    fakes["postmark"].add_event("883953f4-6105-42a2-a16a-77a8eac79483", "sam@example.com", "Delivered",
                                "2026-12-03T10:00:02Z", DeliveryMessage="250 OK")
    fakes["postmark"].add_event("883953f4-6105-42a2-a16a-77a8eac79483", "sam@example.com", "Opened",
                                "2026-12-03T10:03:00Z", Summary="opened")
    # SendGrid's list says the message's last event is one we hold already: its details are not read again
    for message_id, address, status, events, again_outcomes in [
            (sendgrid_id, "pat@example.com", "bounced", 2, {}),
            (postmark_id, "sam@example.com", "opened", 2, {"NOLOG_DUPLICATE": 2})]:
        first = api.post(f"/v1/messages/{message_id}/refresh", auth=VIEWER).json
        assert first["outcomes"] == {"LOG_RECOVERED": events}, first
        assert _statuses(api, message_id) == {address: status}
        again = api.post(f"/v1/messages/{message_id}/refresh", auth=VIEWER).json
        assert (again["complete"], again["changed"], again["outcomes"]) == (True, 0, again_outcomes)
        assert [r["address"] for r in again["recipients"]] == [address]
    assert fakes["sendgrid"].calls("/v3/messages") == 3 and fakes["postmark"].calls("/details") == 2


def test_refresh_needs_a_right_that_lists_the_message_and_says_what_it_cannot_do(provider_api, fakes):
    api = provider_api
    message_id = api.record(provider="mailgun",
                            recipients=[{"address": "pat@example.com", "provider_message_id": PMID}])
    assert api.post(f"/v1/messages/{message_id}/refresh", auth=token(rights=["messages:write"])).status == 403
    assert api.post(f"/v1/messages/{message_id}/refresh", auth=token("other", ["logs:sent"])).status == 404
    ses_id = api.record(provider="ses", recipients=[{"address": "pat@example.com"}])
    ses = api.post(f"/v1/messages/{ses_id}/refresh", auth=VIEWER)
    assert ses.status == 409 and "no API" in ses.json["detail"]
    # rotated to a key the provider (the fake) does not know
    api.call("PUT", "/v1/providers/mailgun", {"api": {**MG, "api_key": "key-revoked-00001"}})
    refused = api.post(f"/v1/messages/{message_id}/refresh", auth=VIEWER)
    assert refused.status == 409 and "refused the API credentials" in refused.json["detail"]
    assert fakes["mailgun"].calls() == 1 and _ingestion_rows(api) == []


POSTMARK_MESSAGE = "7c6b2a8e-5b1f-4c41-9a63-0d3f1b2e4a10"


def _postmark_bounced(api, fakes, bounce_id):
    """A Postmark message whose only event is a `Bounced` one naming bounce `bounce_id` (webhooks never came)."""
    message_id = api.record(provider="postmark", recipients=[
        {"address": "soft@example.com", "provider_message_id": POSTMARK_MESSAGE}])
    fakes["postmark"].add_message(POSTMARK_MESSAGE, ["soft@example.com"], "2026-12-03T10:00:00Z")
    fakes["postmark"].add_event(POSTMARK_MESSAGE, "soft@example.com", "Bounced", "2026-12-03T10:00:04Z",
                                BounceID=str(bounce_id), Summary="mailbox full")
    return message_id


def _suppressed(api):
    return [e["address"] for e in api.get("/v1/suppressions", auth=LOGS).json["items"]]


def test_a_postmark_soft_bounce_is_refreshed_as_its_bounce_says_not_as_a_hard_one(provider_api, fakes):
    """A `Bounced` message event does not say its type: the bounce (GET /bounces/{id}) does."""
    api = provider_api
    fakes["postmark"].add_bounce(692560173, "soft@example.com", "SoftBounce", message_id=POSTMARK_MESSAGE,
                                 details="452 4.2.2 mailbox full")
    message_id = _postmark_bounced(api, fakes, 692560173)
    reply = api.post(f"/v1/messages/{message_id}/refresh", auth=VIEWER).json
    assert reply["outcomes"] == {"LOG_RECOVERED": 1} and reply["calls"] == 2, reply
    assert _statuses(api, message_id) == {"soft@example.com": "deferred"}
    assert _suppressed(api) == []
    assert fakes["postmark"].calls("/bounces/692560173") == 1


def test_a_postmark_bounce_that_cannot_be_read_is_not_assumed_hard(provider_api, fakes):
    """Postmark no longer has the bounce (422, 407): nothing is stored under the webhook's id, so the
    webhook, when it comes, is stored as what it says."""
    from tests.api.test_webhooks import postmark_auth

    api = provider_api
    message_id = _postmark_bounced(api, fakes, 692560174)
    reply = api.post(f"/v1/messages/{message_id}/refresh", auth=VIEWER).json
    assert reply["outcomes"] == {} and reply["complete"] is True, reply
    assert _statuses(api, message_id) != {"soft@example.com": "bounced"} and _suppressed(api) == []
    assert api.call("PUT", "/v1/providers/postmark", {"username": "postmark", "password": "s3cret-pass"}).status == 200
    webhook = {"RecordType": "Bounce", "ID": 692560174, "Type": "SoftBounce", "TypeCode": 4096,
               "MessageID": POSTMARK_MESSAGE, "Email": "soft@example.com", "BouncedAt": "2026-12-03T10:00:04Z",
               "Details": "452 4.2.2 mailbox full", "Metadata": {"message_id": message_id}}
    stored = api.post("/v1/webhooks/postmark/acme", webhook, auth=None, headers=postmark_auth())
    assert stored.status == 200 and stored.json["outcomes"] == {"LOG_OK": 1}, stored.raw
    assert _statuses(api, message_id) == {"soft@example.com": "deferred"} and _suppressed(api) == []


def _sendgrid_send(api, fake, count: int, xid: str = "Xbigsend01") -> tuple[str, list[str]]:
    """A SendGrid send to `count` recipients (one X-Message-ID) whose webhooks never came: SendGrid knows
    each was processed and delivered, every fifth one bounced instead."""
    addresses = [f"r{n:02d}@example.com" for n in range(count)]
    message_id = api.record(provider="sendgrid", recipients=[
        {"address": address, "provider_message_id": xid} for address in addresses])
    at = datetime.now(UTC) - timedelta(minutes=30)
    for n, address in enumerate(addresses):
        msg_id = f"{xid}.filter0001-{n}.0"
        fake.add_message(msg_id, address)
        fake.add_event(msg_id, "processed", _stamp(at + timedelta(seconds=n)))
        if n % 5 == 4:
            fake.add_event(msg_id, "bounced", _stamp(at + timedelta(seconds=n + 5)), reason="550 unknown user",
                           bounce_type="bounced")
        else:
            fake.add_event(msg_id, "delivered", _stamp(at + timedelta(seconds=n + 5)))
    return message_id, addresses


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _true_statuses(addresses: list[str]) -> dict[str, str]:
    return {a: "bounced" if n % 5 == 4 else "delivered" for n, a in enumerate(addresses)}


def test_a_rate_limited_sendgrid_refresh_keeps_what_it_fetched_and_the_next_one_goes_on(provider_api, fakes):
    """SendGrid's Email Activity allows 6 requests a minute (the fake enforces it): a refresh of a send to 12
    gets the list and 5 recipients' details, keeps them, and says it was rate limited; each refresh after the
    minute asks for the recipients not yet known, so three presses bring all 12, each detail read once."""
    api, fake = provider_api, fakes["sendgrid"]
    message_id, addresses = _sendgrid_send(api, fake, 12)
    truth = _true_statuses(addresses)

    first = api.post(f"/v1/messages/{message_id}/refresh", auth=VIEWER).json
    assert first["complete"] is False and first["stopped"] == "rate_limited", first
    assert 1 <= first["retry_after"] <= 61 and first["retry_after"] != 60.0  # X-RateLimit-Reset's, not the default
    assert "rate limiting" in first["detail"]
    fetched = {r["address"] for r in first["recipients"]}
    assert len(fetched) == 5 and all(r["changed"] for r in first["recipients"])
    assert {r["address"] for r in first["not_asked"]} == set(addresses) - fetched
    assert first["outcomes"] == {"LOG_RECOVERED": 10}
    shown = _statuses(api, message_id)
    assert {a: shown[a] for a in fetched} == {a: truth[a] for a in fetched}  # kept and ingested

    fake.pass_time(60)
    second = api.post(f"/v1/messages/{message_id}/refresh", auth=VIEWER).json
    assert second["complete"] is False and second["stopped"] == "rate_limited"
    changed = {r["address"] for r in second["recipients"] if r["changed"]}
    assert len(changed) == 5 and not changed & fetched  # the next five, not the first ones again

    fake.pass_time(60)
    third = api.post(f"/v1/messages/{message_id}/refresh", auth=VIEWER).json
    assert third["complete"] is True and third["not_asked"] == [] and "stopped" not in third, third
    assert {r["address"] for r in third["recipients"] if r["changed"]} == set(addresses) - fetched - changed
    assert _statuses(api, message_id) == truth
    details = [r.path for r in fake.requests if r.path.startswith("/v3/messages/")]
    assert len(set(details)) == 12 and len(details) == 14  # each read once (+ the two answered 429)
    assert sum(r["outcomes"].get("LOG_RECOVERED", 0) for r in _ingestion_rows(api)) == 24


def test_a_sendgrid_refresh_stopped_by_its_call_budget_keeps_its_events_and_the_next_one_finishes(provider_api,
                                                                                                  fakes):
    api, fake = provider_api, fakes["sendgrid"]
    fake.rate_limit = None  # an account whose limit is not the bound here: the refresh's 25 calls are
    message_id, addresses = _sendgrid_send(api, fake, 30)

    first = api.post(f"/v1/messages/{message_id}/refresh", auth=VIEWER).json
    assert (first["complete"], first["stopped"], first["calls"]) == (False, "budget", 25), first
    assert "retry_after" not in first and len(first["recipients"]) == 24 and len(first["not_asked"]) == 6
    assert first["outcomes"] == {"LOG_RECOVERED": 48}

    second = api.post(f"/v1/messages/{message_id}/refresh", auth=VIEWER).json
    assert second["complete"] is True and second["changed"] == 6 and second["calls"] == 7, second
    assert _statuses(api, message_id) == _true_statuses(addresses)
    assert fake.calls("/v3/messages/") == 30


def test_a_twilio_refresh_of_more_recipients_than_its_calls_asks_the_ones_not_reached_first(provider_api, fakes):
    """One call per SMS: a send to 30 takes two refreshes of 25 calls; the second asks the 5 the first did not
    reach before the 25 it did (their statuses are further along), rather than the same first 25 again."""
    api = provider_api
    sids = {f"+1555020{n:04d}": f"SM{n:032x}" for n in range(30)}
    message_id = api.record(channel="sms", provider="twilio", recipients=[
        {"address": number, "provider_message_id": sid} for number, sid in sids.items()])
    for number, sid in sids.items():
        fakes["twilio"].set(sid, number, "delivered")

    first = api.post(f"/v1/messages/{message_id}/refresh", auth=VIEWER).json
    assert (first["complete"], first["stopped"], first["changed"], len(first["not_asked"])) == (
        False, "budget", 25, 5), first
    second = api.post(f"/v1/messages/{message_id}/refresh", auth=VIEWER).json
    assert second["changed"] == 5 and {r["address"] for r in second["recipients"][:5]} == {
        r["address"] for r in first["not_asked"]}, second
    assert set(_statuses(api, message_id).values()) == {"delivered"}
