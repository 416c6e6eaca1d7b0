"""Order independence: any arrival order (with retries) ends in the state in-order arrival gives."""

from __future__ import annotations

import time
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import mailgun_event, mailgun_payload

KINDS = {  # Mailgun event-data variants and what they normalise to
    "accepted": {},
    "delivered": {},
    "opened": {},
    "clicked": {},
    "complained": {},
    "unsubscribed": {},
    "rejected": {},
    "stored": {},
    "list_member_uploaded": {},
    "failed": {
        "severity": "permanent",
        "reason": "bounce",
        "delivery-status": {"code": 550, "message": "no such user"},
    },
    "deferred": {
        "severity": "temporary",
        "reason": "generic",
        "delivery-status": {"code": 451, "message": "try later"},
    },
}
T0 = time.time() + 60  # after the messages are recorded, so events do change statuses

events = st.lists(st.tuples(st.sampled_from(sorted(KINDS)), st.integers(0, 4)), min_size=1, max_size=7)


def send(api, message_id, address, kind, second, event_id):
    name = "failed" if kind == "deferred" else kind
    data = mailgun_event(name, address, message_id=message_id, at=T0 + second, event_id=event_id, **KINDS[kind])
    assert api.post("/v1/webhooks/mailgun/acme", mailgun_payload(data), auth=None).status == 200


def state(api, address):
    item = api.get(f"/v1/recipients/{address}/messages").json["items"][0]
    timeline = api.get(f"/v1/events?recipient={address}&limit=200").json["items"]
    return item["status"], item["status_reason"], item["last_event_at"], sorted(e["event_id"] for e in timeline)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=events, data=st.data())
def test_any_order_with_retries_gives_the_in_order_state(api, events, data):
    if not getattr(api, "_ready", False):
        api.setup_tenant("acme")
        api._ready = True
    run = uuid.uuid4().hex[:8]
    ids = [f"{run}-{n}" for n in range(len(events))]
    in_order, shuffled = f"a-{run}@example.com", f"b-{run}@example.com"
    message_id = api.record(recipients=[{"address": in_order}, {"address": shuffled}])
    for (kind, second), event_id in zip(events, ids, strict=True):
        send(api, message_id, in_order, kind, second, f"a{event_id}")
    arrivals = list(zip(events, ids, strict=True))
    arrivals += data.draw(st.lists(st.sampled_from(arrivals), max_size=3), label="retries")
    for (kind, second), event_id in data.draw(st.permutations(arrivals), label="arrival order"):
        send(api, message_id, shuffled, kind, second, f"b{event_id}")
    expected, got = state(api, in_order), state(api, shuffled)  # each event once: retries are duplicates
    assert got[:3] == expected[:3]
    assert [i.removeprefix("mailgun.b") for i in got[3]] == [i.removeprefix("mailgun.a") for i in expected[3]]
