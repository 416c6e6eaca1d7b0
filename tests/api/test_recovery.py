"""Recovery of a window (`make recover`, the operations function's `recover`): after an outage the log
ends as if every webhook had arrived — the same events, statuses and counts — running it twice changes
nothing, and a provider failing half way is resumed from the checkpoint (fake APIs: local/fakes)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from tests.support import mailgun_event, token

LOGS = token(rights=["logs:sent", "logs:provider", "logs:ingestion", "logs:audit"])
TWIN = token("twin", ["logs:sent", "logs:provider", "logs:ingestion"])


def _window(at: float) -> tuple[str, str]:
    start = datetime.fromtimestamp(at, UTC) - timedelta(hours=1)
    return start.isoformat(), (start + timedelta(hours=2)).isoformat()


def _traffic(api, tenant: str, count: int) -> list[tuple[str, str]]:
    """`count` one-recipient Mailgun messages (provider message ids m<n>@mg): (message id, address)."""
    return [(api.record(tenant=tenant, provider="mailgun", recipients=[
        {"address": f"r{n}@example.com", "provider_message_id": f"m{n}@mg.example.org"}]), f"r{n}@example.com")
        for n in range(count)]


def _history(count: int, at: float) -> list[dict]:
    """What Mailgun knows: each message accepted and delivered; every third one bounced instead."""
    events = []
    for n in range(count):
        common = {"provider_message_id": f"m{n}@mg.example.org", "event_id": f"ev{n}"}
        events.append(mailgun_event("accepted", f"r{n}@example.com", at=at + n, **{**common, "event_id": f"a{n}"}))
        if n % 3 == 2:
            events.append(mailgun_event("failed", f"r{n}@example.com", at=at + n + 1, severity="permanent",
                                        reason="bounce", **{"delivery-status": {"code": 550}}, **common))
        else:
            events.append(mailgun_event("delivered", f"r{n}@example.com", at=at + n + 1, **common))
    return events


def _seen(api, auth: str, messages: list[tuple[str, str]]) -> tuple[list, list, list]:
    """What a user sees: each message's statuses and counts, and its events (their provider ids and names)."""
    statuses, counts, events = [], [], []
    for message_id, _ in messages:
        detail = api.get(f"/v1/messages/{message_id}", auth=auth).json
        statuses.append(sorted((r["address"], r["status"]) for r in detail["recipients"]))
        counts.append(detail["counts"])
        events.append(sorted((e["provider_event"], e["recipient"]) for e in
                             api.get(f"/v1/events?message_id={message_id}&limit=50", auth=auth).json["items"]))
    return statuses, counts, events


def _recover(api, start: str, end: str, **extra) -> dict:
    answer = api.gateway.runtime.invoke("OperationsFunction", {
        "command": "recover", "tenant": "acme", "provider": "mailgun", "from": start, "to": end, **extra})
    api.settle_statuses()  # the status changes it queued, written as the status writer would within a second
    return answer


def test_recovery_after_an_outage_ends_as_if_every_webhook_had_arrived_and_twice_changes_nothing(provider_api, fakes):
    api = provider_api
    at = time.time() - 1800
    mine, theirs = _traffic(api, "acme", 6), _traffic(api, "twin", 6)
    history = _history(6, at)
    fakes["mailgun"].add(*history)
    api.setup_tenant("twin")
    for event_data in history:  # the twin tenant got every webhook
        assert api.mailgun(event_data, tenant="twin").status == 200
    for event_data in history[:4]:  # acme got the first ones, then its endpoint was down
        assert api.mailgun(event_data).status == 200
    start, end = _window(at)

    done = _recover(api, start, end)
    assert done["status"] == "done", done
    assert done["outcomes"] == {"NOLOG_DUPLICATE": 4, "LOG_RECOVERED": 8}
    assert _seen(api, LOGS, mine) == _seen(api, TWIN, theirs)
    bounced = api.get("/v1/suppressions?limit=50", auth=token(rights=["suppressions:read"])).json["items"]
    assert sorted(s["address"] for s in bounced) == ["r2@example.com", "r5@example.com"]
    seen_before = _seen(api, LOGS, mine)
    rows = api.get("/v1/ingestion-log?limit=100", auth=LOGS).json["items"]

    again = _recover(api, start, end)  # the same window: found done, nothing asked
    assert again["status"] == "done" and "already" in again["note"]
    calls = fakes["mailgun"].calls()
    refetched = _recover(api, start, end, again=True)  # fetched once more: every event a duplicate
    assert refetched["status"] == "done" and fakes["mailgun"].calls() > calls
    assert _seen(api, LOGS, mine) == seen_before
    assert api.get("/v1/ingestion-log?limit=100", auth=LOGS).json["items"] == rows
    audit = [r["action"] for r in api.get("/v1/audit?limit=50", auth=LOGS).json["items"]]
    assert audit.count("provider.recovery_started") == 1 and audit.count("provider.recovery_run") == 2


def test_a_provider_failing_half_way_is_resumed_from_the_checkpoint(provider_api, fakes, monkeypatch):
    from msglog.provider_apis import mailgun as mailgun_api

    monkeypatch.setattr(mailgun_api, "PAGE", 4)  # pages of 4 events: the window takes several
    api = provider_api
    at = time.time() - 1800
    mine = _traffic(api, "acme", 6)
    fakes["mailgun"].add(*_history(6, at))
    start, end = _window(at)
    fakes["mailgun"].fail(500, after=2)  # the third page fails
    stopped = _recover(api, start, end)
    assert (stopped["status"], stopped["pages"]) == ("failed", 2) and "resume" in stopped["detail"]
    assert stopped["outcomes"] == {"LOG_RECOVERED": 8}
    fakes["mailgun"].fail(429, retry_after=30)
    waiting = _recover(api, start, end)
    assert waiting["status"] == "waiting" and waiting["retry_at"] and waiting["pages"] == 2
    first_paths = [r.path for r in fakes["mailgun"].requests]
    resumed = _recover(api, start, end)
    assert resumed["status"] == "done" and resumed["outcomes"] == {"LOG_RECOVERED": 12}
    resumed_paths = [r.path for r in fakes["mailgun"].requests[len(first_paths):]]
    assert resumed_paths[0] != "/v3/mg.example.org/events"  # from the checkpoint's page, not the start
    statuses = _seen(api, LOGS, mine)[0]
    assert [s[0][1] for s in statuses] == ["delivered", "delivered", "bounced"] * 2


def test_a_recovery_names_what_it_cannot_do(provider_api):
    api = provider_api
    bad = api.gateway.runtime.invoke("OperationsFunction", {"command": "recover", "tenant": "acme",
                                                            "provider": "ses", "from": "2026-12-01T00:00:00Z",
                                                            "to": "2026-12-02T00:00:00Z"})
    assert bad["error"] and [f["field"] for f in bad["fields"]] == ["recover.provider"]
    backwards = api.gateway.runtime.invoke("OperationsFunction", {"command": "recover", "tenant": "acme",
                                                                  "provider": "mailgun", "from": "2026-12-02T00:00:00Z",
                                                                  "to": "2026-12-01T00:00:00Z"})
    assert [f["field"] for f in backwards["fields"]] == ["recover.to"]
    no_credentials = api.gateway.runtime.invoke("OperationsFunction", {
        "command": "recover", "tenant": "other", "provider": "mailgun", "from": "2026-12-01T00:00:00Z",
        "to": "2026-12-02T00:00:00Z"})
    assert "no API credentials" in no_credentials["error"]


def test_a_provider_back_after_a_silence_has_its_silent_window_recovered(provider_api, fakes):
    from tests.api.test_ingestion_health import HOUR, check, steady_until, this_hour, traffic

    api = provider_api
    traffic("acme", steady_until(this_hour() - 4 * HOUR))  # a week of Mailgun webhooks, until four hours ago
    assert check(api)["opened"] == 1
    mine = _traffic(api, "acme", 3)  # sent during the silence: Mailgun has their events, we never got them
    fakes["mailgun"].add(*_history(3, (this_hour() - 2 * HOUR).timestamp()))
    back = api.record(recipients=[{"address": "pat@example.com"}])
    assert api.mailgun(mailgun_event("delivered", message_id=back)).status == 200  # webhooks are back
    health = check(api)
    api.settle_statuses()
    assert health["recovered"] == 1 and health["incidents"][0]["recovery"] == "done", health
    assert [s[0][1] for s in _seen(api, LOGS, mine)[0]] == ["delivered", "delivered", "bounced"]
    audit = [(r["action"], r["actor"]["id"]) for r in api.get("/v1/audit?limit=50", auth=LOGS).json["items"]
             if r["action"].startswith("provider.recovery")]
    assert sorted(audit) == [("provider.recovery_run", "ingestion-health"),
                             ("provider.recovery_started", "ingestion-health")]


def test_unfinished_recoveries_are_resumed_by_the_health_check_once_their_retry_time_passes(provider_api, fakes,
                                                                                            monkeypatch):
    """A window rate limited (429) half way and three failed (500): the scheduled ingestion-health run leaves
    them while their retry time is ahead, then resumes each from its checkpoint, at most three jobs a run."""
    from msglog.provider_apis import mailgun as mailgun_api
    from tests.api.test_ingestion_health import check, later

    monkeypatch.setattr(mailgun_api, "PAGE", 4)  # pages of 4 events: a window takes several
    api = provider_api
    at = time.time() - 1800
    mine = _traffic(api, "acme", 6)
    fakes["mailgun"].add(*_history(6, at))
    start, end = _window(at)
    fakes["mailgun"].fail(429, after=1, retry_after=600)  # the second page: "retry in ten minutes"
    assert _recover(api, start, end)["status"] == "waiting"
    windows = [(datetime.fromisoformat(start) - timedelta(hours=h), datetime.fromisoformat(end) - timedelta(hours=h))
               for h in (3, 5, 7)]  # three more windows (nothing of ours in them), each failing at once
    for older_start, older_end in windows:
        fakes["mailgun"].fail(500)
        assert _recover(api, older_start.isoformat(), older_end.isoformat())["status"] == "failed"
    asked = len(fakes["mailgun"].requests)
    assert check(api)["recoveries_resumed"] == []  # every retry time is still ahead
    assert len(fakes["mailgun"].requests) == asked
    first = check(api, now=later(0.5))["recoveries_resumed"]  # the failures' 15 minutes and the 429's 10 passed
    api.settle_statuses()
    assert len(first) == 3 and all(run["status"] == "done" for run in first)
    assert [run["from"] for run in first] == sorted(run["from"] for run in first)  # oldest window first
    second = check(api, now=later(0.5))["recoveries_resumed"]
    api.settle_statuses()
    assert [(datetime.fromisoformat(run["from"]), run["status"]) for run in second] == [
        (datetime.fromisoformat(start), "done")]  # the newest window, rate limited: resumed by the next run
    assert check(api, now=later(0.5))["recoveries_resumed"] == []  # all done: nothing more
    statuses, counts, _ = _seen(api, LOGS, mine)
    assert [s[0][1] for s in statuses] == ["delivered", "delivered", "bounced"] * 2
    assert [c["delivered"] for c in counts] == [1, 1, 0] * 2


def _sendgrid_traffic(api, fake, count: int, at: datetime, *, step: timedelta = timedelta(minutes=1)) -> list:
    """`count` one-recipient SendGrid messages, the n-th processed and delivered at `at` + n × `step`; SendGrid
    knows it, we never got the webhooks: (message id, address)."""
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    sent = []
    for n in range(count):
        address, xid = f"s{n}@example.com", f"Xsg{n:04d}"
        sent.append((api.record(provider="sendgrid", recipients=[{"address": address, "provider_message_id": xid}]),
                     address))
        fake.add_message(f"{xid}.filter0001-1.0", address)
        fake.add_event(f"{xid}.filter0001-1.0", "processed", (at + n * step).strftime(stamp))
        fake.add_event(f"{xid}.filter0001-1.0", "delivered", (at + n * step + timedelta(seconds=1)).strftime(stamp))
    return sent


def _fast_sendgrid(fake, monkeypatch, limit: int) -> None:
    """SendGrid's filter answers at most `limit` messages (1,000 in fact; no paging), no pacing, no rate limit:
    a window of a few dozen messages is over the limit, and the test takes seconds."""
    from msglog.provider_apis import sendgrid as sendgrid_api

    monkeypatch.setattr(sendgrid_api, "LIMIT", limit)
    monkeypatch.setattr(sendgrid_api, "PACE_SECONDS", 0.0)
    fake.rate_limit = None


def test_a_sendgrid_window_over_its_filter_limit_is_split_until_every_message_is_read(provider_api, fakes,
                                                                                       monkeypatch):
    api, fake = provider_api, fakes["sendgrid"]
    _fast_sendgrid(fake, monkeypatch, limit=5)
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    sent = _sendgrid_traffic(api, fake, 23, at)
    start, end = (at - timedelta(minutes=30)).isoformat(), (at + timedelta(minutes=30)).isoformat()

    done = _recover(api, start, end, provider="sendgrid")
    assert done["status"] == "done" and done["outcomes"] == {"LOG_RECOVERED": 46}, done
    statuses = _seen(api, LOGS, sent)[0]
    assert [s[0][1] for s in statuses] == ["delivered"] * 23
    lists = [r.query["query"] for r in fake.requests if r.path == "/v3/messages"]
    assert len(lists) > 5 and all(r.query["limit"] == "5" for r in fake.requests if r.path == "/v3/messages")
    assert len({r.path for r in fake.requests if r.path.startswith("/v3/messages/")}) == 23


def test_a_sendgrid_second_holding_more_than_the_limit_is_reported_not_called_done(provider_api, fakes, monkeypatch):
    api, fake = provider_api, fakes["sendgrid"]
    _fast_sendgrid(fake, monkeypatch, limit=5)
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    sent = _sendgrid_traffic(api, fake, 7, at, step=timedelta(0))  # seven messages, all in the same second
    start, end = (at - timedelta(minutes=30)).isoformat(), (at + timedelta(minutes=30)).isoformat()

    stopped = _recover(api, start, end, provider="sendgrid")
    assert stopped["status"] == "incomplete", stopped
    assert (at + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ") in stopped["detail"]
    assert "5" in stopped["detail"] and stopped["outcomes"] == {"LOG_RECOVERED": 10}
    assert sorted(s[0][1] for s in _seen(api, LOGS, sent)[0]) == ["delivered"] * 5 + ["queued"] * 2
    again = _recover(api, start, end, provider="sendgrid")  # finished as far as SendGrid allows: not re-run
    assert again["status"] == "incomplete" and "already" in again["note"]


def test_sendgrid_recovery_finds_messages_whose_last_event_came_after_the_window_and_keeps_only_its_events(
        provider_api, fakes, monkeypatch):
    """SendGrid lists by a message's last event: a message delivered during the outage and opened after it (the
    open's webhook arrived) was not listed. Events outside the window are not stored again: their webhooks
    came (SendGrid's activity events have ids of their own, so they would be second rows)."""
    from tests.support import sendgrid_key, sendgrid_post

    api, fake = provider_api, fakes["sendgrid"]
    _fast_sendgrid(fake, monkeypatch, limit=1000)
    private, public = sendgrid_key()
    api.call("PUT", "/v1/providers/sendgrid", {"public_key": public, "api": {"api_key": "SG.sendgrid-api-key"}})
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    end = start + timedelta(hours=2)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    opened = api.record(provider="sendgrid", recipients=[{"address": "a@example.com", "provider_message_id": "XsgA"}])
    fake.add_message("XsgA.filter0001-1.0", "a@example.com")
    fake.add_event("XsgA.filter0001-1.0", "processed", (start + timedelta(minutes=10)).strftime(stamp))
    fake.add_event("XsgA.filter0001-1.0", "delivered", (start + timedelta(minutes=11)).strftime(stamp))
    fake.add_event("XsgA.filter0001-1.0", "opened", (end + timedelta(minutes=20)).strftime(stamp))
    early = api.record(provider="sendgrid", recipients=[{"address": "b@example.com", "provider_message_id": "XsgB"}])
    fake.add_message("XsgB.filter0001-1.0", "b@example.com")
    fake.add_event("XsgB.filter0001-1.0", "processed", (start - timedelta(minutes=30)).strftime(stamp))
    fake.add_event("XsgB.filter0001-1.0", "delivered", (start + timedelta(minutes=5)).strftime(stamp))
    assert sendgrid_post(api, private, [  # what came by webhook: before the outage, and after it
        {"email": "b@example.com", "event": "processed", "sg_message_id": "XsgB.filter0001-1.0",
         "timestamp": int((start - timedelta(minutes=30)).timestamp()), "sg_event_id": "wh-b-processed"},
        {"email": "a@example.com", "event": "open", "sg_message_id": "XsgA.filter0001-1.0",
         "timestamp": int((end + timedelta(minutes=20)).timestamp()), "sg_event_id": "wh-a-open"}]).status == 200
    api.settle_statuses()

    done = _recover(api, start.isoformat(), end.isoformat(), provider="sendgrid")
    assert done["status"] == "done" and done["outcomes"] == {"LOG_RECOVERED": 3}, done
    statuses, _, events = _seen(api, LOGS, [(opened, "a@example.com"), (early, "b@example.com")])
    assert statuses == [[("a@example.com", "opened")], [("b@example.com", "delivered")]]
    assert [len(e) for e in events] == [3, 2]  # a: open (webhook), processed, delivered; b: processed, delivered
    again = _recover(api, start.isoformat(), end.isoformat(), provider="sendgrid", again=True)
    assert again["status"] == "done" and _seen(api, LOGS, [(opened, ""), (early, "")])[2] == events


def test_postmark_and_twilio_recoveries_look_back_for_messages_sent_before_the_window(provider_api, fakes,
                                                                                     monkeypatch):
    """Postmark lists by send time, Twilio by DateSent: a message sent before the outage whose outcome came
    during it was not listed."""
    from msglog.provider_apis import postmark as postmark_api

    monkeypatch.setattr(postmark_api, "PACE_SECONDS", 0.0)
    api = provider_api
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    end = start + timedelta(hours=2)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    mail = api.record(provider="postmark", recipients=[{"address": "p@example.com", "provider_message_id": "pm-early"}])
    fakes["postmark"].add_message("pm-early", ["p@example.com"], (start - timedelta(hours=1)).strftime(stamp))
    fakes["postmark"].add_event("pm-early", "p@example.com", "Delivered",
                                (start + timedelta(minutes=3)).strftime(stamp), DeliveryMessage="250 OK")
    sid = "SM" + "e" * 32
    sms = api.record(channel="sms", provider="twilio", recipients=[{"address": "+15550100009",
                                                                    "provider_message_id": sid}])
    fakes["twilio"].set(sid, "+15550100009", "undelivered", error_code=30003,
                        date_sent=(start - timedelta(days=1)).strftime("%Y-%m-%d"))

    for provider in ("postmark", "twilio"):
        done = _recover(api, start.isoformat(), end.isoformat(), provider=provider)
        assert done["status"] == "done" and done["outcomes"] == {"LOG_RECOVERED": 1}, done
    statuses = _seen(api, LOGS, [(mail, ""), (sms, "")])[0]
    assert statuses == [[("p@example.com", "delivered")], [("+15550100009", "undelivered")]]
