"""A request that changes many deliveries' status queues the changes for one writer (msglog.status_writer):
the status trails the webhook's answer, nothing acknowledged is lost when the writer fails, and an
erasure leaves no status under the erased address whenever the writer runs. Since issue 21 every request
queues (STATUS_DIRECT_MAX=0); with STATUS_DIRECT_MAX above 0, a request that changes that many or fewer
updates them itself, at once."""

from __future__ import annotations

import json

import boto3
import pytest

from local.provision import physical_name
from tests.support import Faults, mailgun_event, sendgrid_message, sendgrid_post, token

KID = {"address": "kid.pupil@example.com", "person_id": "P1", "role": "student", "name": "Pupil, Kiddo"}


@pytest.fixture
def api(api_with):
    """Every request queues its status changes, however few (STATUS_DIRECT_MAX=0)."""
    return api_with(STATUS_DIRECT_MAX="0")


def status_of(api, address):
    [row] = api.get(f"/v1/recipients/{address}/messages").json["items"]
    return row["status"], row["last_event_at"]


def under(address: str) -> list[dict]:
    """The items of an address's partition, read straight from the table."""
    return boto3.client("dynamodb").query(
        TableName=physical_name("Table"), KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"T#acme#R#{address}"}}, ConsistentRead=True)["Items"]


def test_the_status_trails_the_answer_until_its_writer_runs(api):
    api.setup_tenant("acme")
    message_id = api.record()
    api.settle = False
    assert api.mailgun(mailgun_event("delivered", message_id=message_id)).json["outcomes"] == {"LOG_OK": 1}
    assert status_of(api, "pat@example.com")[0] == "queued"  # acknowledged, the event listed; the status not yet
    assert [e["event"] for e in api.get("/v1/events").json["items"]] == ["delivered"]
    assert api.settle_statuses() == 1
    assert status_of(api, "pat@example.com")[0] == "delivered"


def test_a_request_that_changes_a_few_deliveries_updates_them_at_once(api_with):
    api = api_with(STATUS_DIRECT_MAX="8")  # the default is 0 since issue 21: every request queues
    api.setup_tenant("acme")
    message_id = api.record()
    api.settle = False
    assert api.mailgun(mailgun_event("delivered", message_id=message_id)).json["outcomes"] == {"LOG_OK": 1}
    assert status_of(api, "pat@example.com")[0] == "delivered"
    assert api.settle_statuses() == 1  # its recount alone (msglog.counts): the status is written already


def test_one_sendgrid_request_is_one_message_per_status_group(api_with):
    """A 60-event request queues its changes by recipient shard; the writer applies them all."""
    api = api_with()
    private, message_id, batch = sendgrid_message(api, 60)
    api.settle = False
    assert sendgrid_post(api, private, batch).json["outcomes"] == {"LOG_OK": 60}
    from msglog import keys

    groups = {keys.status_group("acme", f"p{n}@example.com") for n in range(60)}
    assert api.settle_statuses() == len(groups)
    detail = api.get(f"/v1/messages/{message_id}?limit=100").json
    assert {r["status"] for r in detail["recipients"]} == {"delivered"}


def test_a_failing_status_writer_loses_nothing(api, monkeypatch):
    """Its batch fails through every retry: the messages come back, and the next delivery writes them."""
    api.setup_tenant("acme")
    message_id = api.record(recipients=[{"address": f"p{n}@example.com"} for n in range(3)])
    api.settle = False
    for n in range(3):
        api.mailgun(mailgun_event("opened", f"p{n}@example.com", message_id=message_id))
    faults = Faults(monkeypatch)
    # one batch's write: its statuses move their counts, so it is a transaction (msglog.counts), here canceled
    faults.fail("TransactWriteItems", code="TransactionCanceledException", fields={"CancellationReasons": [
        {"Code": "None"}, {"Code": "None"}, {"Code": "TransactionConflict", "Message": "Transaction is ongoing"}]})
    assert api.settle_statuses() > 3  # delivered again after the failure
    assert faults.plan["TransactWriteItems"] == []
    assert "status changes applied" in api.output.getvalue()
    assert [status_of(api, f"p{n}@example.com")[0] for n in range(3)] == ["opened"] * 3


def test_changes_that_cannot_be_queued_park_the_request_and_replay_stores_it(api, monkeypatch):
    api.setup_tenant("acme")
    message_id = api.record()
    faults = Faults(monkeypatch)
    faults.fail("SendMessageBatch", times=50, code="RequestThrottled")  # its events are stored first
    reply = api.mailgun(mailgun_event("opened", message_id=message_id))
    assert reply.status == 202 and reply.json["outcomes"] == {"PARKED": 1}
    faults.plan.clear()
    assert api.gateway.runtime.invoke("ReplayFunction", {"limit": 10})["replayed"] == 1
    assert api.settle_statuses() == 1
    assert status_of(api, "pat@example.com")[0] == "opened"
    assert len(api.get("/v1/events").json["items"]) == 1


def change_message(message_id: str, address: str = "pat@example.com", event: str = "delivered",
                   read_at: str = "2026-12-01T10:00:00.000000Z", reason: str | None = None) -> str:
    """A queue message as `status_writer.send` writes it: one change, its delivery read at `read_at`."""
    at = "2026-12-01T10:00:00.000000Z"
    from msglog.precedence import precedence

    return json.dumps({"tenant": "acme", "read_at": read_at, "changes": [
        [f"T#acme#R#{address}", message_id, at, event, precedence(event, at, "e1"), reason]]})


def test_a_message_that_is_not_a_change_list_fails_alone(api):
    """Changes apply in any order: the messages after a bad one need not wait for it."""
    api.setup_tenant("acme")
    message_id = api.record(recipients=[{"address": "pat@example.com"}, {"address": "sam@example.com"}])
    records = [{"messageId": name, "body": body} for name, body in
               (("m1", change_message(message_id)), ("m2", "not json"),
                ("m3", change_message(message_id, "sam@example.com")))]
    answer = api.gateway.runtime.invoke("StatusFunction", {"Records": records})
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert [status_of(api, a)[0] for a in ("pat@example.com", "sam@example.com")] == ["delivered", "delivered"]


def test_the_writer_looks_for_moved_deliveries_only_while_an_erasure_may_move_them(api, monkeypatch):
    """Reading each delivery back after its status is written costs a read unit an event: it is done
    only for changes made while an erasure of the tenant may have been moving deliveries."""
    api.setup_tenant("acme")
    message_id = api.record(recipients=[KID, {"address": "pat@example.com"}])
    faults = Faults(monkeypatch)

    def reads_of_pat():
        return [k for k in faults.keys if k == ("BatchGetItem", "T#acme#R#pat@example.com", f"M#{message_id}")]

    api.mailgun(mailgun_event("delivered", "pat@example.com", message_id=message_id))
    assert len(reads_of_pat()) == 2  # the webhook's look-up and the writer's read (with the status item: counts)
    assert api.call("DELETE", "/v1/people/P1", auth=token()).json["erased"] == 1  # nothing of pat's moves
    api.mailgun(mailgun_event("opened", "pat@example.com", message_id=message_id))
    assert len(reads_of_pat()) == 5  # those two, and the writer's read back: an erasure was under way
    assert status_of(api, "pat@example.com")[0] == "opened"


def test_a_status_queued_before_an_erasure_is_not_left_under_the_address(api):
    """The writer runs after the erasure moved the delivery: the status it writes under the address
    is removed again, and the anonymous delivery already shows the event's status."""
    api.setup_tenant("acme")
    message_id = api.record(recipients=[KID])
    api.settle = False
    api.mailgun(mailgun_event("delivered", KID["address"], message_id=message_id))
    erased = api.call("DELETE", "/v1/people/P1", auth=token())
    assert erased.json["erased"] == 1
    assert api.settle_statuses() == 2  # the event's change, and the recount the erasure queued for the moved delivery
    assert under(KID["address"]) == []
    [row] = api.get(f"/v1/messages/{message_id}").json["recipients"]
    assert row["address"].startswith("erased:") and row["status"] == "delivered"


def test_a_change_read_before_an_erasure_and_delivered_late_leaves_nothing(api):
    """A change waits in the queue (a failed batch, a dead-letter redrive) past an erasure: what counts
    is when its delivery was read, not when the message was queued."""
    api.setup_tenant("acme")
    message_id = api.record(recipients=[KID])
    from msglog.clock import iso, now

    read_before = iso(now())
    assert api.call("DELETE", "/v1/people/P1", auth=token()).json["erased"] == 1
    late = {"messageId": "m1", "body": change_message(message_id, KID["address"], read_at=read_before),
            "attributes": {"SentTimestamp": str(int(now().timestamp() * 1000) + 600_000)}}  # queued again later
    assert api.gateway.runtime.invoke("StatusFunction", {"Records": [late]}) == {"batchItemFailures": []}
    assert under(KID["address"]) == []


def erased_with_a_status_queued(api) -> None:
    """The kid's delivery is erased (moved) while the status change of its event waits in the queue."""
    api.setup_tenant("acme")
    message_id = api.record(recipients=[KID])
    api.settle = False
    api.mailgun(mailgun_event("delivered", KID["address"], message_id=message_id))
    assert api.call("DELETE", "/v1/people/P1", auth=token()).json["erased"] == 1


def test_a_writer_that_failed_after_writing_removes_the_status_on_its_retry(api, monkeypatch):
    """The status is written under the address after the erasure moved the delivery, then the writer
    fails before it looks: its retry finds the item current and still removes it."""
    from msglog import status_writer

    erased_with_a_status_queued(api)
    looked = status_writer._while_erasing
    failures = []

    def fail_once(changes):
        if not failures:
            failures.append(1)
            raise RuntimeError("the writer's Lambda timed out")
        return looked(changes)

    monkeypatch.setattr(status_writer, "_while_erasing", fail_once)
    assert api.settle_statuses() == 4  # delivered and the erasure's recount, failed as one batch; both again
    assert under(KID["address"]) == []


def test_a_delivery_being_erased_shows_no_reason_from_its_status_item(api, monkeypatch):
    """A reason may quote the address; a delivery marked erased in place (more events than one
    transaction moves) must not show the status item's, unscrubbed."""
    api.setup_tenant("acme")
    message_id = api.record(recipients=[KID])
    api.settle = False
    for n in range(60):  # more events than one transaction moves; each lesser than the failure
        api.mailgun(mailgun_event("delivered", KID["address"], message_id=message_id, event_id=f"d-{n:02d}"))
    bounced = mailgun_event("failed", KID["address"], message_id=message_id, severity="permanent",
                            reason="550 <kid.pupil@example.com> unknown")
    api.mailgun(bounced)
    api.settle_statuses()
    faults = Faults(monkeypatch)
    faults.fail("TransactWriteItems", times=50, after=1)  # 50 events move, then the rest fails
    assert api.call("DELETE", "/v1/people/P1", auth=token()).status == 503
    faults.plan.clear()
    [row] = api.get(f"/v1/messages/{message_id}").json["recipients"]
    assert row["address"].startswith("erased:") and row["status"] == "failed"
    assert "kid.pupil" not in json.dumps(row)


def once_after(monkeypatch, module, name, then):
    """`module.name` as it is, then `then()`, the first time it is called."""
    original, done = getattr(module, name), []

    def wrapped(*args):
        found = original(*args)
        if not done:
            done.append(then())
        return found

    monkeypatch.setattr(module, name, wrapped)


def test_an_event_stored_while_its_delivery_moves_brings_its_status_along(api, monkeypatch):
    """A click matched her delivery after the erasure read its events; its status change waits in the
    queue and will find the delivery gone. The erasure moves the event after the delivery, and the
    anonymous delivery takes its status."""
    from msglog import erasure

    api.setup_tenant("acme")
    message_id = api.record(recipients=[KID])
    api.mailgun(mailgun_event("delivered", KID["address"], message_id=message_id))
    api.settle = False
    once_after(monkeypatch, erasure, "_events",
               lambda: api.mailgun(mailgun_event("clicked", KID["address"], message_id=message_id)))
    assert api.call("DELETE", "/v1/people/P1", auth=token()).json["complete"] is True
    api.settle_statuses()
    assert under(KID["address"]) == []
    [row] = api.get(f"/v1/messages/{message_id}").json["recipients"]
    assert row["address"].startswith("erased:") and row["status"] == "clicked"


def test_an_erasure_waits_for_a_status_written_while_it_moves(api, monkeypatch):
    """The writer raises the status between the erasure's read and its move: the move's condition
    fails, and the same call, walking the person's index again, moves it with the new status."""
    from msglog import erasure

    api.setup_tenant("acme")
    message_id = api.record(recipients=[KID])
    api.mailgun(mailgun_event("delivered", KID["address"], message_id=message_id))
    once_after(monkeypatch, erasure, "_statuses",
               lambda: api.mailgun(mailgun_event("opened", KID["address"], message_id=message_id)))
    first = api.call("DELETE", "/v1/people/P1", auth=token())
    assert (first.status, first.json["erased"], first.json["complete"]) == (200, 1, True)
    assert under(KID["address"]) == []
    [row] = api.get(f"/v1/messages/{message_id}").json["recipients"]
    assert row["address"].startswith("erased:") and row["status"] == "opened"


def every_row(api, path):
    rows, cursor = [], None
    while True:
        reply = api.get(path + (f"&cursor={cursor}" if cursor else "")).json
        rows += reply["items"]
        if not (cursor := reply["next_cursor"]):
            return rows


@pytest.mark.parametrize("view", ["pat@example.com", "person:P1"])
def test_every_page_shows_the_written_status_whatever_its_size_and_order(api, view):
    """The address's log reads each status item in its deliveries' own Query, next to its delivery
    (before it newest first, after it oldest first), so a page may end between the two; the person's
    log reads them with its deliveries."""
    api.setup_tenant("acme")
    events = ["delivered", "opened", "complained", "clicked", "unsubscribed"]
    said = {}
    for event in events:
        message_id = api.record(recipients=[{"address": "pat@example.com", "person_id": "P1"}])
        api.mailgun(mailgun_event(event, message_id=message_id))
        said[message_id] = event
    said[api.record(recipients=[{"address": "pat@example.com", "person_id": "P1"}])] = "queued"  # no event
    assert {item["sk"]["S"] for item in under("pat@example.com")} >= {f"M#{m}#S" for m in said if said[m] != "queued"}
    for order in ("desc", "asc"):
        for limit in (1, 2, 3, 6):
            rows = every_row(api, f"/v1/recipients/{view}/messages?limit={limit}&order={order}")
            assert [r["message_id"] for r in rows] == sorted(said, reverse=order == "desc")
            assert {r["message_id"]: r["status"] for r in rows} == said
    by_status = api.get(f"/v1/recipients/{view}/messages?sort=status&limit=6").json["items"]
    assert {r["message_id"]: r["status"] for r in by_status} == said


def test_a_writer_whose_write_fails_still_removes_what_it_wrote_for_an_erased_delivery(api, monkeypatch):
    """One chunk of its writes fails after the others went through, on every attempt (the batch ends in the
    dead-letter queue): the status written under the erased address is removed all the same."""
    from msglog import fanout, status_writer

    erased_with_a_status_queued(api)
    save_all = fanout.save_all

    def written_then_failed(model, items):
        save_all(model, items)
        raise RuntimeError("another chunk was throttled through every retry")

    monkeypatch.setattr(status_writer.fanout, "save_all", written_then_failed)
    api.settle_statuses()
    assert under(KID["address"]) == []


@pytest.mark.parametrize(("deliveries", "orphans"), [(6, 3), (5, 4)])
def test_status_items_without_their_delivery_take_no_place_in_a_sorted_log(api_with, deliveries, orphans):
    """Status items left by a delivery an erasure moved (the writer removes them when it looks) sort among
    the deliveries: a log sorted by status still reads every delivery up to its cap, each with its status."""
    from datetime import UTC, datetime, timedelta

    from msglog import keys
    from msglog.clock import iso
    from msglog.ids import new_ulid
    from msglog.models import Delivery, DeliveryStatus
    from msglog.precedence import precedence

    api = api_with(SORT_MAX_ITEMS="5")
    api.setup_tenant("acme")
    pk, base = keys.recipient_pk("acme", "pat@example.com"), datetime(2026, 6, 1, tzinfo=UTC)
    for n in range(orphans):  # older than every delivery: first in key order
        DeliveryStatus(pk, keys.delivery_status_sk(new_ulid(base + timedelta(minutes=n))), status="clicked",
                       status_precedence=precedence("clicked", iso(base), "x"), last_event_at=iso(base)).save()
    for n in range(deliveries):
        created = base + timedelta(days=1, minutes=n)
        mid, at, later = new_ulid(created), iso(created), iso(created + timedelta(hours=1))
        Delivery(pk, keys.delivery_sk(mid), message_id=mid, address="pat@example.com", recipient_key="pat@example.com",
                 channel="email", subject="s", created_at=at, status="accepted",
                 status_precedence=precedence("accepted", at, "x"), last_event_at=at).save()
        DeliveryStatus(pk, keys.delivery_status_sk(mid), status="opened",
                       status_precedence=precedence("opened", later, "y"), last_event_at=later).save()
    reply = api.get("/v1/recipients/pat@example.com/messages?sort=status&limit=50")
    if deliveries > 5:
        assert reply.status == 400 and reply.fields == ["sort"]  # more than SORT_MAX_ITEMS: refused, not cut
    else:
        assert [row["status"] for row in reply.json["items"]] == ["opened"] * deliveries
