"""The benchmark's pure arithmetic (bench/): capacity units from item sizes, partition heat, cost.
Benchmarks measure; nothing here times anything."""

from __future__ import annotations

import pytest

from bench import capacity, cost, heat
from bench.meter import Call, Window
from bench.work import measure


def _item(**attributes: str) -> dict[str, dict[str, str]]:
    return {name: {"S": value} for name, value in attributes.items()}


def test_a_1500_byte_item_costs_2_write_units():
    item = _item(pk="T#t#R#x", sk="M#1", body="x" * (1500 - len("pkT#t#R#xskM#1body")))
    assert capacity.item_size(item) == 1500
    assert capacity.item_write_units(item) == 2


def test_each_index_the_item_is_in_costs_another_write():
    item = _item(pk="a", sk="b", gsi1pk="c", gsi1sk="d", gsi2pk="e", gsi2sk="f", gsi3pk="only half a key")
    assert [index.name for index in capacity.indexes_of(item)] == ["gsi1", "gsi2"]
    assert capacity.item_write_units(item) == 3


def test_a_narrow_index_costs_its_own_attributes_and_nothing_on_updates_that_leave_them():
    item = _item(pk="a", sk="b", gsi4pk="c", gsi4sk="d", status="x" * 1500)  # gsi4: keys and type (template.yaml)
    assert capacity.item_write_units(item) == 2 + 1  # the whole item in the table; the keys in gsi4
    assert capacity.item_write_units(item, changed={"status"}) == 2
    assert capacity.item_write_units(item, changed={"status", "gsi4sk"}) == 3


def test_sizes_follow_dynamodbs_rules():
    assert capacity.value_size({"N": "12345"}) == 4  # 3 bytes for 5 significant digits, + 1
    assert capacity.value_size({"N": "1000"}) == 2  # trailing zeros trimmed
    assert capacity.value_size({"BOOL": True}) == 1
    assert capacity.value_size({"L": [{"S": "ab"}, {"N": "1"}]}) == 3 + (1 + 2) + (1 + 2)
    assert capacity.value_size({"M": {"k": {"S": "v"}}}) == 3 + 1 + 1 + 1
    assert capacity.value_size({"B": b"\x00\x01"}) == 2


def test_read_units_round_up_to_4_kb_and_halve_when_eventually_consistent():
    assert capacity.read_units(4097) == 1.0
    assert capacity.read_units(4097, consistent=True) == 2.0
    assert capacity.read_units(0) == 0.5  # an empty answer still costs the least unit
    items = [_item(pk="x" * 2000) for _ in range(3)]  # one Query: 6 KB rounded once
    assert capacity.query_read_units(items) == 1.0
    assert capacity.get_read_units(items) == 1.5  # a batch get: each item rounded on its own


def test_a_read_through_a_projection_costs_the_whole_item():
    whole = _item(pk="T#t#R#x", sk="M#1", type="delivery", fields="x" * 5000)  # two 4 KB units
    shown = _item(pk="T#t#R#x", sk="M#1", type="delivery")
    batch = {"RequestItems": {"Table": {"Keys": [{"pk": whole["pk"], "sk": whole["sk"]}],
                                        "ProjectionExpression": "pk, sk, #t", "ConsistentRead": True}}}
    get = {"TableName": "Table", "Key": {"pk": whole["pk"], "sk": whole["sk"]}, "ProjectionExpression": "pk, sk"}
    window = Window([Call("BatchGetItem", batch, {"Responses": {"Table": [shown]}}),
                     Call("GetItem", get, {"Item": shown}),
                     Call("GetItem", {"TableName": "Table", "Key": get["Key"]}, {"Item": shown})], requests=3)
    work = measure(window, lambda keys: dict.fromkeys(keys, whole))
    assert work.read_units == 2.0 + 1.0 + 0.5  # consistent, eventually consistent, and one returned whole


def test_zipf_puts_about_1800_of_10000_events_on_the_busiest_of_1000_tenants():
    rates = heat.zipf_rates(10_000, 1_000, 1.1)
    assert sum(rates) == pytest.approx(10_000)
    assert 1_700 < rates[0] < 1_900
    assert rates == sorted(rates, reverse=True)


def test_partition_heat_counts_every_copy_and_spreads_one_tenant_over_its_shards():
    result = heat.simulate(events=1_000, tenants=1)
    assert result.busiest_tenant_rate == 1_000
    assert result.total_units == 5 * 1_000  # event ×3 copies, status item (table only), ingestion record
    # the feed (4 shards) takes ~250 of a tenant's 1,000 a key; the message group (8 shards) ~125
    assert 200 < result.hottest_units < 400


def test_cost_per_million_events():
    single = cost.per_million_events(events_per_request=1, ms_per_request=99.2, memory_mb=1024,
                                     write_units_per_event=1, read_units_per_event=2)
    assert single.api == pytest.approx(1.00)
    assert single.lambda_requests == pytest.approx(0.20)
    assert single.lambda_duration == pytest.approx(0.1 * 1 * 0.0000133334 * 1_000_000)  # 100 ms billed
    assert single.writes == pytest.approx(0.625)
    assert single.reads == pytest.approx(0.25)
    batched = cost.per_million_events(events_per_request=1_000, ms_per_request=99.2, memory_mb=1024,
                                      write_units_per_event=1, read_units_per_event=2)
    assert batched.api == pytest.approx(0.001)
    assert batched.total == pytest.approx(single.total - 0.999 - 0.1998 - single.lambda_duration * 0.999)


def test_cost_counts_the_status_writer_and_its_queue():
    alone = cost.per_million_events(events_per_request=1_000, ms_per_request=100, memory_mb=512,
                                    write_units_per_event=4, read_units_per_event=1)
    queued = cost.per_million_events(events_per_request=1_000, ms_per_request=100, memory_mb=512,
                                     write_units_per_event=4, read_units_per_event=1, status_batches_per_event=0.01,
                                     ms_per_status_batch=199.5, status_memory_mb=512, queue_requests_per_event=0.03)
    assert queued.lambda_requests - alone.lambda_requests == pytest.approx(10_000 * 0.20 / 1_000_000)
    assert queued.lambda_duration - alone.lambda_duration == pytest.approx(10_000 * 0.2 * 0.5 * 0.0000133334)
    assert queued.queue == pytest.approx(0.03 * 0.50)
    assert queued.total - alone.total == pytest.approx(0.002 + 0.0133334 + 0.015)


def test_results_open_with_what_changed_since_the_last_run():
    from bench.report import Report, Row

    previous = "\n".join(["Run on 2026-12-02 05:31 UTC, a machine.", "## Figures",
                          "| # | figure | measured | target | verdict |", "|---|---|---|---|---|",
                          "| 3 | write units per event: Mailgun | 6.00 WCU | ≤ 4 | **MISS** |",
                          "| 5 | purge: items read per body purged (1% due) | 1.00 | ≤ 1.05 | **PASS** |",
                          "| 7 | gone figure | $1 | — | **—** |", "", "## Where the misses come from"])
    report = Report(rows=[Row(3, "write units per event: Mailgun", "4.90 WCU", "≤ 5", True),
                          Row(5, "purge: items read per body purged (1% due)", "1.00", "≤ 1.05", True),
                          Row(2, "a new figure", "3.1×", "≥ 3×", True)])
    assert report.changes(previous).splitlines()[2:] == [
        "| 2 | a new figure | new | 3.1× (**PASS**) |",
        "| 3 | write units per event: Mailgun | 6.00 WCU (**MISS**) | 4.90 WCU (**PASS**) |",
        "| — | gone figure | $1 (**—**) | no longer measured |",
    ]
