"""The retention purge: e-mail bodies go `retention_months` after their send date; the message, its
recipients and statuses stay, and the detail says when the body was purged."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from local.provision import physical_name
from local.runtime import LambdaContext
from local.template import ROOT
from tests.support import Faults, token

PAST_24_MONTHS = 25 * 31  # days ago: due at the default retention, whatever the months' lengths
WITHIN_24_MONTHS = 23 * 30
BODY = {"text": "Dear family, the report card is attached.", "html": "<p>Dear family, the report card is attached.</p>"}


def sent(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def send(api, days: int, tenant: str = "acme", body: dict | None = BODY, **message) -> str:
    """A message recorded now with its send date `days` ago (a backfill when days > 0)."""
    if body is not None:
        message["body"] = body
    return api.record(tenant, created_at=sent(days), subject="Report card", **message)


def purge(api, **event):
    return api.gateway.runtime.invoke("PurgeFunction", event)


def detail(api, message_id: str, tenant: str = "acme") -> dict:
    reply = api.get(f"/v1/messages/{message_id}", auth=token(tenant, ["logs:sent"]))
    assert reply.status == 200, reply.raw
    return reply.json


def purge_audit(api, tenant: str = "acme") -> list[dict]:
    """The purge's entries in the tenant's audit log, oldest first, as an auditor reads them."""
    reply = api.get("/v1/audit?entity=retention&order=asc&limit=200", auth=token(tenant, ["logs:audit"]))
    assert reply.status == 200, reply.raw
    return reply.json["items"]


def body_objects(versions: bool = False) -> dict:
    s3, bucket = boto3.client("s3"), physical_name("MessageBodies").lower()
    if versions:
        return s3.list_object_versions(Bucket=bucket, Prefix="bodies/")
    return s3.list_objects_v2(Bucket=bucket, Prefix="bodies/")


class DynamoReads:
    """What the purge reads: items returned by its gsi3 Queries (DynamoDB's Count), and every operation
    called — seen where moto answers, the way AWS would bill them. Optionally holds each thread's
    first Query that finds due bodies until `barrier` is complete, and applies one request at a time
    (DynamoDB applies each conditional write atomically; moto, called from two threads, need not)."""

    def __init__(self, monkeypatch, barrier: threading.Barrier | None = None) -> None:
        from moto.core.botocore_stubber import BotocoreStubber

        self.due_read = 0
        self.operations: set[str] = set()
        original, reads, lock, waited = BotocoreStubber.__call__, self, threading.Lock(), set()

        def stub(self, event_name, request, **kwargs):
            operation = event_name.rpartition(".")[2]
            with lock:
                response = original(self, event_name, request, **kwargs)
                reads.operations.add(operation)
                body = json.loads(request.body or b"{}") if "dynamodb" in event_name else {}
                count = json.loads(response.content)["Count"] if body.get("IndexName") == "gsi3" else 0
                reads.due_read += count
            if barrier and count and threading.get_ident() not in waited:
                waited.add(threading.get_ident())
                barrier.wait(timeout=60)
            return response

        monkeypatch.setattr(BotocoreStubber, "__call__", stub)


@contextmanager
def short_of_time(monkeypatch, looks: int):
    """The Lambda's clock shows plenty of time for `looks` looks, then one second left."""
    left = iter([600_000] * looks)
    with monkeypatch.context() as patch:
        patch.setattr(LambdaContext, "get_remaining_time_in_millis", lambda self: next(left, 1_000))
        yield


def test_due_bodies_are_purged_and_the_detail_says_when(api):
    old = send(api, PAST_24_MONTHS, recipients=[{"address": "pat@example.com"}, {"address": "sam@example.com"}])
    recent = send(api, WITHIN_24_MONTHS)
    bodiless = send(api, PAST_24_MONTHS, body=None)
    result = purge(api)
    assert (result["found"], result["purged"], result["complete"], result["dry_run"]) == (1, 1, True, False)
    assert result["by_tenant"]["acme"]["purged"] == 1
    gone = detail(api, old)
    assert gone["body"] is None and gone["body_purged_at"] is not None
    assert gone["body_purged_at"] > gone["created_at"]
    assert gone["subject"] == "Report card" and len(gone["recipients"]) == 2  # metadata and statuses stay
    assert {r["status"] for r in gone["recipients"]} == {"queued"}
    kept = detail(api, recent)
    assert (kept["body"], kept["body_purged_at"]) == (BODY, None)
    assert detail(api, bodiless)["body_purged_at"] is None
    assert {m["message_id"] for m in api.get("/v1/messages").json["items"]} == {old, recent, bodiless}
    [entry] = purge_audit(api)
    assert (entry["action"], entry["actor"]["id"]) == ("retention.bodies_purged", "system:purge")
    assert entry["details"]["purged"] == 1 and entry["details"]["dry_run"] is False
    assert entry["details"]["oldest_sent_at"] == entry["details"]["newest_sent_at"] == gone["created_at"]
    assert entry["details"]["retention_months"] == 24 and "duration_ms" in entry["details"]


def test_backfilled_messages_are_purged_on_the_first_run(api):
    backfilled = [send(api, days) for days in (3 * 365, 10 * 365, PAST_24_MONTHS)]
    today = send(api, 0)
    assert purge(api)["purged"] == 3
    assert all(detail(api, m)["body_purged_at"] for m in backfilled)
    assert detail(api, today)["body"] == BODY
    [entry] = purge_audit(api)
    oldest, newest = entry["details"]["oldest_sent_at"], entry["details"]["newest_sent_at"]
    assert oldest == detail(api, backfilled[1])["created_at"] and newest == detail(api, backfilled[2])["created_at"]


def test_retention_is_each_tenant_s_own_and_tenants_stay_apart(api):
    beta_admin = token("beta")
    assert api.call("PATCH", "/v1/tenant", {"retention_months": 12}, auth=beta_admin).status == 200
    acme_13_months = send(api, 400)
    acme_old = send(api, PAST_24_MONTHS)
    beta_13_months = send(api, 400, tenant="beta")
    beta_recent = send(api, 300, tenant="beta")
    result = purge(api)
    assert {t: r["purged"] for t, r in result["by_tenant"].items()} == {"acme": 1, "beta": 1}
    assert detail(api, acme_13_months)["body"] == BODY  # 24 months at acme
    assert detail(api, acme_old)["body_purged_at"]
    assert detail(api, beta_13_months, "beta")["body_purged_at"]
    assert detail(api, beta_recent, "beta")["body"] == BODY
    assert api.get(f"/v1/messages/{beta_13_months}", auth=token("acme", ["logs:sent"])).status == 404
    assert [e["details"]["retention_months"] for e in purge_audit(api, "acme")] == [24]
    assert [e["details"]["retention_months"] for e in purge_audit(api, "beta")] == [12]
    # an operator's run for one tenant touches only that one
    acme_next, beta_next = send(api, PAST_24_MONTHS), send(api, 400, tenant="beta")
    only_beta = purge(api, tenant="beta")
    assert (list(only_beta["by_tenant"]), only_beta["purged"]) == (["beta"], 1)
    assert detail(api, acme_next)["body"] == BODY and detail(api, beta_next, "beta")["body"] is None


def test_a_dry_run_reports_without_deleting(api):
    due = [send(api, PAST_24_MONTHS + n) for n in range(3)]
    send(api, WITHIN_24_MONTHS)
    dry = purge(api, **json.loads((ROOT / "events/purge-dry-run.json").read_text()))
    assert (dry["dry_run"], dry["found"], dry["purged"]) == (True, 3, 0)
    assert dry["by_tenant"]["acme"]["oldest_sent_at"] == detail(api, due[2])["created_at"]
    assert all(detail(api, m)["body"] == BODY for m in due)
    [entry] = purge_audit(api)
    assert (entry["action"], entry["details"]["dry_run"], entry["details"]["found"]) == (
        "retention.purge_dry_run",
        True,
        3,
    )
    real = purge(api, **json.loads((ROOT / "events/purge.json").read_text()))
    assert (real["dry_run"], real["purged"]) == (False, 3)
    assert all(detail(api, m)["body"] is None for m in due)


def test_a_second_run_finds_nothing_and_leaves_the_purge_time_alone(api):
    message_id = send(api, PAST_24_MONTHS)
    assert purge(api)["purged"] == 1
    purged_at = detail(api, message_id)["body_purged_at"]
    again = purge(api)
    assert (again["found"], again["purged"], again["by_tenant"], again["complete"]) == (0, 0, {}, True)
    assert detail(api, message_id)["body_purged_at"] == purged_at
    assert len(purge_audit(api)) == 1  # nothing was due the second time: nothing to audit


def test_a_run_short_of_time_stops_after_a_batch_and_the_next_run_finishes(api, monkeypatch):
    due = [send(api, PAST_24_MONTHS + n) for n in range(12)]
    with short_of_time(monkeypatch, looks=1 + 4):  # the run's first look, then one per shard's batch
        first = purge(api, batch_size=2)
    assert first["complete"] is False and first["by_tenant"]["acme"]["complete"] is False
    assert 0 < first["purged"] <= 4 * 2  # one batch of at most 2 from each of the 4 shards
    second = purge(api, batch_size=2)
    assert second["complete"] is True and first["purged"] + second["purged"] == 12
    assert all(detail(api, m)["body"] is None and detail(api, m)["body_purged_at"] for m in due)
    assert [e["details"]["complete"] for e in purge_audit(api)] == [False, True]


def test_two_runs_at_once_purge_each_body_once(api, monkeypatch):
    from msglog import purge as job

    due = [send(api, PAST_24_MONTHS + n) for n in range(20)]
    DynamoReads(monkeypatch, barrier=threading.Barrier(2))  # both runs read due bodies before either deletes
    results = []

    def one_run():
        results.append(job.run(job.options({"batch_size": 3}), time_left=lambda: 600_000))

    runs = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    assert len(results) == 2 and not any(r["errors"] for r in results)
    assert sum(r["purged"] for r in results) == 20
    assert sum(r["found"] for r in results) > 20  # they did meet over the same bodies
    assert all(detail(api, m)["body_purged_at"] for m in due)
    assert sum(e["details"]["purged"] for e in purge_audit(api)) == 20
    assert purge(api)["found"] == 0


def test_a_failed_delete_leaves_a_consistent_state_and_the_next_run_completes(api, monkeypatch):
    due = [send(api, PAST_24_MONTHS + n) for n in range(6)]
    faults = Faults(monkeypatch)
    faults.fail("DeleteItem", times=50, after=2)  # throttled past botocore's retries from the third body on
    first = purge(api)
    assert (first["purged"], first["errors"], first["complete"]) == (2, 1, False)
    assert first["by_tenant"]["acme"]["error"] == "ProvisionedThroughputExceededException"
    shown = [detail(api, m) for m in due]
    assert all((d["body"] is None) == (d["body_purged_at"] is not None) for d in shown)  # a body, or when it went
    assert sum(d["body_purged_at"] is not None for d in shown) >= 2
    faults.plan.clear()
    second = purge(api)
    assert (second["errors"], second["complete"]) == (0, True)
    assert first["purged"] + second["purged"] == 6
    after = [detail(api, m) for m in due]
    assert all(d["body"] is None and d["body_purged_at"] for d in after)
    assert all(
        a["body_purged_at"] == b["body_purged_at"] for a, b in zip(after, shown, strict=True) if b["body_purged_at"]
    )
    assert [bool(e["details"].get("error")) for e in purge_audit(api)] == [True, False]


def test_the_purge_reads_only_what_it_purges(api, monkeypatch):
    due = [send(api, PAST_24_MONTHS + n) for n in range(5)]
    for n in range(30):
        send(api, WITHIN_24_MONTHS - n)
    send(api, PAST_24_MONTHS, body=None)
    reads = DynamoReads(monkeypatch)
    result = purge(api)
    assert result["purged"] == 5 == len(due)
    assert reads.due_read == 5  # not one of the 30 bodies still kept
    assert "Scan" not in reads.operations


def test_large_bodies_go_to_s3_come_back_and_are_purged(api):
    large = {"text": "Plain text. " * 999 + "End.", "html": "<p>" + "Ünïcode report card, " * 7000 + "</p>"}  # ~170 KB
    old_large = send(api, PAST_24_MONTHS, body=large)
    recent_large = send(api, WITHIN_24_MONTHS, body=large)
    old_small = send(api, PAST_24_MONTHS)
    assert detail(api, old_large)["body"] == large
    assert body_objects()["KeyCount"] == 2
    assert purge(api)["purged"] == 2
    assert detail(api, old_large)["body"] is None and detail(api, old_small)["body"] is None
    assert detail(api, recent_large)["body"] == large
    assert [o["Key"] for o in body_objects()["Contents"]] == [f"bodies/standard/acme/{recent_large}.json.gz"]
    versions = body_objects(versions=True)  # the purged one stays restorable until the 35-day rule
    assert [m["Key"] for m in versions["DeleteMarkers"]] == [f"bodies/standard/acme/{old_large}.json.gz"]


def test_bodies_up_to_a_megabyte_are_accepted(api):
    writer = token(rights=["messages:write"])
    message = {"channel": "email", "recipients": [{"address": "pat@example.com"}]}
    accepted = api.post("/v1/messages", {**message, "body": {"html": "x" * 1_000_000}}, auth=writer)
    assert accepted.status == 201
    assert len(detail(api, accepted.json["message_id"])["body"]["html"]) == 1_000_000
    refused = api.post("/v1/messages", {**message, "body": {"html": "x" * 999_999, "text": "xx"}}, auth=writer)
    assert refused.status == 400 and refused.fields == ["body"]


def test_a_tenant_keeping_bodies_longer_gets_the_longer_backstop(api):
    assert api.call("PATCH", "/v1/tenant", {"retention_months": 60}).status == 200
    message_id = send(api, 0, body={"html": "y" * 120_000})
    assert [o["Key"] for o in body_objects()["Contents"]] == [f"bodies/extended/acme/{message_id}.json.gz"]


def test_a_bad_input_is_refused_naming_the_field(api):
    with pytest.raises(ValueError, match="batch_size"):
        purge(api, batch_size=0)
    with pytest.raises(ValueError, match="dry_run"):
        purge(api, dry_run="perhaps")


def test_retention_counts_calendar_months():
    from msglog.purge import months_before

    assert months_before(datetime(2026, 1, 15, 9, tzinfo=UTC), 24) == datetime(2024, 1, 15, 9, tzinfo=UTC)
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 25) == datetime(2024, 2, 29, tzinfo=UTC)
