"""The same work from many clients at once ends as it does in series: nothing acknowledged is lost
and nothing counted twice. Real HTTP against `make run`'s stack, its functions in several execution
environments each (LOCAL_CONCURRENCY), moto in server mode with each DynamoDB request atomic.

Each test does its work twice, on separate messages (separate counters): once request after request,
once from CLIENTS threads released together; the end states (counters, statuses, events) must match.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest
import requests

from local.template import ROOT
from tests.support import MAILGUN_KEY, free_port, mailgun_event, mailgun_payload, token

pytestmark = pytest.mark.stack
CLIENTS = 8
TENANT = "race"



@pytest.fixture(scope="module")
def base():
    port, moto_port = free_port(), free_port()
    env = {**os.environ, "PORT": str(port), "MOTO_PORT": str(moto_port), "SEED": "0", "LOCAL_CONCURRENCY": "4",
           "PYTHONPATH": f"{ROOT / 'layers' / 'msglog'}:{ROOT}"}
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "TABLE_NAME", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    process = subprocess.Popen([sys.executable, "-m", "local.stack"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    banner = []
    for line in process.stdout:
        banner.append(line)
        if "Ctrl-C" in line:
            break
    if process.poll() is not None:
        pytest.fail("the local stack did not start:\n" + "".join(banner))
    threading.Thread(target=process.stdout.read, daemon=True).start()  # keep its pipe from filling
    url = f"http://127.0.0.1:{port}"
    configured = requests.put(f"{url}/v1/providers/mailgun", json={"signing_key": MAILGUN_KEY}, timeout=60,
                              headers=_auth(("admin",)))
    assert configured.status_code == 200, configured.text
    _warm(url)
    yield url
    process.send_signal(2)
    process.wait(timeout=60)


def _warm(url: str) -> None:
    """Start every execution environment the tests use, all at once: cold starts take seconds and
    would spread the clients' requests out in time, so that they did not race."""
    writer = _auth(("messages:write",))
    at_once([lambda: requests.post(f"{url}/v1/messages", json={}, headers=writer, timeout=120),
             lambda: requests.post(f"{url}/v1/webhooks/mailgun/{TENANT}", json={}, timeout=120)] * CLIENTS)


def _auth(rights: tuple[str, ...] = ("admin",), **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(TENANT, rights)}", **headers}


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Every call from its own thread, all released together."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as clients:
        return list(clients.map(run, calls))


def send_one(base: str, events: list[dict[str, Any]]) -> requests.Response:
    """One of `events` (each client takes its own) in a signed Mailgun webhook."""
    return requests.post(f"{base}/v1/webhooks/mailgun/{TENANT}", json=mailgun_payload(events.pop(), key=MAILGUN_KEY),
                         timeout=120)


def in_series(calls: list[Callable[[], Any]]) -> list[Any]:
    return [call() for call in calls]


def record(base: str, campaign: str, recipients: list[dict[str, Any]], **headers: str) -> requests.Response:
    return requests.post(f"{base}/v1/messages", timeout=120, headers=_auth(("messages:write",), **headers), json={
        "channel": "email", "subject": campaign, "campaign": campaign, "recipients": recipients})


def counts(base: str, campaign: str) -> dict[str, int]:
    """The campaign's account statistics: messages, recipients, sent, failed."""
    reply = requests.get(f"{base}/v1/stats", params={"group": "campaign", "campaign": campaign}, headers=_auth(),
                         timeout=60)
    assert reply.status_code == 200, reply.text
    items = reply.json()["items"]
    return {name: sum(item[name] for item in items) for name in ("messages", "recipients", "sent", "failed")}


def statuses(base: str, message_id: str) -> dict[str, str]:
    """{address: status} of a message's recipients."""
    reply = requests.get(f"{base}/v1/messages/{message_id}", headers=_auth(), timeout=60)
    assert reply.status_code == 200, reply.text
    return {r["address"]: r["status"] for r in reply.json()["recipients"]}


def settled(read: Callable[[], Any], until: Callable[[Any], bool]) -> Any:
    """`read()` once `until` holds of it: status changes are written by the status writer, from
    its queue, a moment after the request (only a bound, so that a broken writer fails the test)."""
    deadline = time.monotonic() + 120
    while not until(value := read()) and time.monotonic() < deadline:
        time.sleep(0.3)
    return value


def test_identical_recipient_additions_count_once(base):
    added = [{"address": f"added-{n}@example.com"} for n in range(40)]
    ends = {}
    for name, run in (("series", in_series), ("at once", at_once)):
        campaign = f"recipients {name} {uuid.uuid4().hex[:8]}"
        reply = record(base, campaign, [{"address": "first@example.com"}])
        assert reply.status_code == 201, reply.text
        message_id = reply.json()["message_id"]
        post = partial(requests.post, f"{base}/v1/messages/{message_id}/recipients", json={"recipients": added},
                       headers=_auth(("messages:write",)), timeout=120)
        replies = run([post] * CLIENTS)
        assert [r.status_code for r in replies] == [200] * CLIENTS, [r.text for r in replies]
        ends[name] = (counts(base, campaign), sum(r.json()["added"] for r in replies),
                      len(statuses(base, message_id)))
    assert ends["at once"] == ends["series"] == ({"messages": 1, "recipients": 41, "sent": 0, "failed": 0}, 40, 41)


def test_recording_racing_events_keeps_every_status_the_events_raised(base):
    """Recipients added from several clients at once while their provider's `delivered` events arrive:
    whichever comes first, each delivery ends delivered (none reset to its initial status)."""
    added = [{"address": f"linked-{n}@example.com"} for n in range(12)]
    ends = {}
    for name, run in (("series", in_series), ("at once", at_once)):
        reply = record(base, f"linking {name} {uuid.uuid4().hex[:8]}", [{"address": "first@example.com"}])
        message_id = reply.json()["message_id"]
        post = partial(requests.post, f"{base}/v1/messages/{message_id}/recipients", json={"recipients": added},
                       headers=_auth(("messages:write",)), timeout=120)
        events = [mailgun_event("delivered", r["address"], message_id=message_id, event_id=f"{name}-{r['address']}")
                  for r in added]
        webhook = partial(send_one, base, events)
        replies = run([post] * 4 + [webhook] * len(events))
        assert {r.status_code for r in replies} == {200}, [r.text for r in replies]
        expected = {r["address"]: "delivered" for r in added} | {"first@example.com": "queued"}
        ends[name] = settled(lambda: statuses(base, message_id), lambda found: found == expected)  # noqa: B023
    assert ends["at once"] == ends["series"] == {r["address"]: "delivered" for r in added} | {
        "first@example.com": "queued"}


def test_one_idempotency_key_from_many_clients_records_one_message(base):
    ends = {}
    for name, run in (("series", in_series), ("at once", at_once)):
        campaign, key = f"idempotent {name} {uuid.uuid4().hex[:8]}", uuid.uuid4().hex
        recipients = [{"address": f"idem-{n}@example.com"} for n in range(5)]
        replies = run([partial(record, base, campaign, recipients, **{"Idempotency-Key": key})] * CLIENTS)
        assert {r.status_code for r in replies} <= {200, 201}, [r.text for r in replies]
        assert [r.status_code for r in replies].count(201) == 1
        message_ids = {r.json()["message_id"] for r in replies}
        assert len(message_ids) == 1
        listed = requests.get(f"{base}/v1/messages", params={"q": campaign}, headers=_auth(), timeout=60).json()
        ends[name] = (counts(base, campaign), len(listed["items"]), len(statuses(base, message_ids.pop())))
    assert ends["at once"] == ends["series"] == ({"messages": 1, "recipients": 5, "sent": 0, "failed": 0}, 1, 5)


def test_webhook_retries_at_once_store_one_event_count_one_failure_and_suppress_once(base):
    ends = {}
    for name, run in (("series", in_series), ("at once", at_once)):
        campaign = f"retries {name} {uuid.uuid4().hex[:8]}"
        address = f"bounce-{name.replace(' ', '-')}@example.com"
        message_id = record(base, campaign, [{"address": address}]).json()["message_id"]
        bounce = mailgun_event("failed", address, message_id=message_id, severity="permanent", reason="bounce")
        payload = mailgun_payload(bounce, key=MAILGUN_KEY)
        post = partial(requests.post, f"{base}/v1/webhooks/mailgun/{TENANT}", json=payload, timeout=120)
        replies = run([post] * CLIENTS)
        assert [r.status_code for r in replies] == [200] * CLIENTS, [r.text for r in replies]
        outcomes = sorted(code for r in replies for code, n in r.json()["outcomes"].items() for _ in range(n))
        final = settled(lambda: statuses(base, message_id), lambda found: found[address] == "bounced")  # noqa: B023
        logged = requests.get(f"{base}/v1/events", params={"q": address, "limit": 100}, headers=_auth(),
                              timeout=60).json()["items"]
        suppressed = requests.get(f"{base}/v1/suppressions/{address}", headers=_auth(), timeout=60)
        # Retries that read at once may each answer LOG_OK: each wrote the same item (docs/decisions.md)
        assert "LOG_OK" in outcomes and set(outcomes) <= {"LOG_OK", "NOLOG_DUPLICATE"}, outcomes
        ends[name] = (counts(base, campaign), list(final.values()), [e["event"] for e in logged],
                      suppressed.status_code)
    assert ends["at once"] == ends["series"] == ({"messages": 1, "recipients": 1, "sent": 0, "failed": 1}, ["bounced"],
                                                 ["bounced"], 200)


def test_erasure_racing_ingestion_leaves_nothing_of_the_address(base):
    """A person erased while their provider's events arrive: whichever comes first, no event or delivery
    keeps their address (a late event is dropped, an earlier one moves with the delivery)."""
    ends = {}
    for name, run in (("series", in_series), ("at once", at_once)):
        address, person = f"erased-{uuid.uuid4().hex[:8]}@example.com", f"p-{uuid.uuid4().hex[:8]}"
        reply = record(base, f"erasure {name}", [{"address": address, "person_id": person}])
        message_id = reply.json()["message_id"]
        events = [mailgun_event(kind, address, message_id=message_id) for kind in
                  ("delivered", "opened", "clicked", "opened", "clicked", "opened", "clicked")]
        webhook = partial(send_one, base, events)
        erase = partial(requests.delete, f"{base}/v1/people/{person}", headers=_auth(), timeout=120)
        replies = run([webhook] * len(events) + [erase])
        for _ in range(5):  # 202: events kept changing her deliveries as they moved; a client repeats
            if replies[-1].status_code != 202:
                break
            replies[-1] = erase()
        assert [r.status_code for r in replies] == [200] * len(replies), [r.text for r in replies]
        if run is in_series:  # the events were stored before the erasure: it had them to erase
            assert [r.json()["outcomes"] for r in replies[:-1]] == [{"LOG_OK": 1}] * (len(replies) - 1)

        def left(address: str = address) -> tuple[int, int]:
            delivered = requests.get(f"{base}/v1/recipients/{address}/messages", headers=_auth(), timeout=60)
            logged = requests.get(f"{base}/v1/events", params={"q": address}, headers=_auth(), timeout=60)
            return len(delivered.json()["items"]), len(logged.json()["items"])

        ends[name] = settled(left, lambda found: found == (0, 0))
    assert ends["at once"] == ends["series"] == (0, 0)


def message_counts(base: str, message_id: str) -> dict[str, int]:
    """The message's `counts` (msglog.counts), as its detail shows them."""
    reply = requests.get(f"{base}/v1/messages/{message_id}", headers=_auth(), timeout=60)
    assert reply.status_code == 200, reply.text
    return reply.json()["counts"]


def test_counts_of_events_at_once_end_as_in_series(base):
    """A message's events (several per recipient, some retried) one after the other, and all at once from
    their own clients: the same counts — each delivery counted once, where its status ends — and the same
    account statistics (seed 002's sent and failed)."""
    kinds = {0: ["delivered"], 1: ["delivered", "opened"], 2: ["opened", "clicked", "delivered"],
             3: ["delivered", "complained"], 4: ["delivered", "bounce"], 5: []}
    expected = {"recipients": 6, "pending": 1, "sent": 4, "delivered": 1, "failed": 1, "opened": 1, "clicked": 1,
                "unsubscribed": 0, "complained": 1}
    statistics = {"messages": 1, "recipients": 6, "sent": 4, "failed": 1}
    ends = {}
    for name, run in (("series", in_series), ("at once", at_once)):
        tag = uuid.uuid4().hex[:8]
        addresses = [f"count-{n}-{tag}@example.com" for n in kinds]
        campaign = f"counts {name} {tag}"
        message_id = record(base, campaign, [{"address": a} for a in addresses]).json()["message_id"]
        events = [mailgun_event("failed", addresses[n], message_id=message_id, severity="permanent", reason="bounce")
                  if kind == "bounce" else mailgun_event(kind, addresses[n], message_id=message_id)
                  for n, listed in kinds.items() for kind in listed]
        events += events[:3]  # a provider's retries: the same events again
        replies = run([partial(send_one, base, events)] * len(events))
        assert [r.status_code for r in replies] == [200] * len(replies), [r.text for r in replies]
        ends[name] = settled(lambda: (message_counts(base, message_id), counts(base, campaign)),  # noqa: B023
                             lambda found: found == (expected, statistics))
    assert ends["at once"] == ends["series"] == (expected, statistics)
