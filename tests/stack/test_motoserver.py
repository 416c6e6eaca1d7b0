"""The local stack's moto answers DynamoDB requests from many clients at once as DynamoDB does:
each request atomic. Plain moto lets two conditional transactions both pass their condition, and
one cancelled transaction put back a copy of the table that undoes another's write."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.motoserver import AtomicMotoServer
from tests.support import free_port

pytestmark = pytest.mark.stack
CLIENTS = 8



def test_a_conditional_transaction_from_many_clients_at_once_is_applied_once():
    port = free_port()
    server = AtomicMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        options = {"endpoint_url": f"http://127.0.0.1:{port}", "region_name": "us-east-1",
                   "aws_access_key_id": "local", "aws_secret_access_key": "local"}
        table = boto3.client("dynamodb", **options)
        table.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                           AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                           BillingMode="PAY_PER_REQUEST")
        for n in range(200):  # a table of some size: moto copies it whole for each transaction
            table.put_item(TableName="t", Item={"pk": {"S": f"other-{n}"}})
        clients = [boto3.client("dynamodb", **options) for _ in range(CLIENTS)]
        counters = []
        for attempt in range(10):
            start = threading.Barrier(CLIENTS)

            def store_and_count(client, attempt=attempt, start=start):
                """Store the message if absent and count it: as msglog.stats.save_counted does."""
                start.wait()
                # the message was there: refused, as DynamoDB refuses it
                with contextlib.suppress(client.exceptions.TransactionCanceledException):
                    client.transact_write_items(TransactItems=[
                        {"Put": {"TableName": "t", "Item": {"pk": {"S": f"message-{attempt}"}},
                                 "ConditionExpression": "attribute_not_exists(pk)"}},
                        {"Update": {"TableName": "t", "Key": {"pk": {"S": f"counter-{attempt}"}},
                                    "UpdateExpression": "ADD messages :one",
                                    "ExpressionAttributeValues": {":one": {"N": "1"}}}}])

            threads = [threading.Thread(target=store_and_count, args=(client,)) for client in clients]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            counter = table.get_item(TableName="t", Key={"pk": {"S": f"counter-{attempt}"}}, ConsistentRead=True)
            counters.append(counter["Item"]["messages"]["N"])
        assert counters == ["1"] * 10
        assert table.scan(TableName="t", Select="COUNT")["Count"] == 200 + 2 * 10  # nothing undone
    finally:
        server.stop()


@contextlib.contextmanager
def _keyed_table(name: str) -> Iterator[Any]:
    """A client of a fresh local moto holding one table `name`, keyed pk and sk (strings)."""
    port = free_port()
    server = AtomicMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                              aws_access_key_id="local", aws_secret_access_key="local")
        client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "S"}])
        yield client
    finally:
        server.stop()


def test_a_cancelled_transaction_puts_back_what_it_touched_and_a_query_reads_its_partition_in_order():
    """Without its table walks (a transaction's copy of the table, a Query's sort of it) moto still answers as
    DynamoDB does: a refused transaction leaves every item it named as it was, and a Query pages through one
    partition in key order, both ways."""
    with _keyed_table("walks") as table:
        for pk in ("a", "b", "c"):
            for n in (3, 1, 2, 5, 4):
                table.put_item(TableName="walks", Item={"pk": {"S": pk}, "sk": {"S": f"{n:02d}"}, "n": {"N": str(n)}})
        before = table.scan(TableName="walks")["Items"]
        key = {"pk": {"S": "a"}, "sk": {"S": "01"}}
        with pytest.raises(table.exceptions.TransactionCanceledException):
            table.transact_write_items(TransactItems=[
                {"Update": {"TableName": "walks", "Key": key, "UpdateExpression": "ADD n :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                {"Put": {"TableName": "walks", "Item": {"pk": {"S": "a"}, "sk": {"S": "99"}}}},
                {"Delete": {"TableName": "walks", "Key": {"pk": {"S": "b"}, "sk": {"S": "02"}}}},
                {"ConditionCheck": {"TableName": "walks", "Key": {"pk": {"S": "c"}, "sk": {"S": "03"}},
                                    "ConditionExpression": "attribute_not_exists(pk)"}}])
        assert sorted(map(str, table.scan(TableName="walks")["Items"])) == sorted(map(str, before))

        def pages(forward: bool) -> list[str]:
            found: list[str] = []
            start: dict = {}
            while True:
                page = table.query(TableName="walks", KeyConditionExpression="pk = :b AND sk > :low", Limit=2,
                                   ScanIndexForward=forward, ExpressionAttributeValues={
                                       ":b": {"S": "b"}, ":low": {"S": "01"}}, **start)
                assert len(page["Items"]) <= 2
                found += [item["sk"]["S"] for item in page["Items"]]
                if "LastEvaluatedKey" not in page:
                    return found
                start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}

        assert pages(True) == ["02", "03", "04", "05"]
        assert pages(False) == ["05", "04", "03", "02"]


def test_every_attribute_type_reads_back_as_it_was_written():
    """The reads' items are written out as moto holds them (DynamoDB's JSON), not walked against botocore's
    model: every type, nested, comes back through GetItem, BatchGetItem, Query and Scan as it went in."""
    with _keyed_table("types") as client:
        item = {"pk": {"S": "p"}, "sk": {"S": "é \"quoted\" \u2028"}, "n": {"N": "-12345678901234567890.5"},
                "b": {"B": b"\x00\xffbytes"}, "bs": {"BS": [b"\x01", b"\x02"]}, "ss": {"SS": ["a", "b"]},
                "ns": {"NS": ["1", "2.5"]}, "yes": {"BOOL": True}, "none": {"NULL": True},
                "list": {"L": [{"S": "x"}, {"N": "1"}, {"B": b"\x03"}, {"M": {"deep": {"L": []}}}]},
                "map": {"M": {"s": {"S": "y"}, "bs": {"BS": [b"\x04"]}, "empty": {"M": {}}}}}
        client.put_item(TableName="types", Item=item)
        key = {"pk": item["pk"], "sk": item["sk"]}

        def normal(found: dict) -> dict:  # sets have no order
            return {name: {kind: sorted(value) if kind in ("SS", "NS", "BS") else value for kind, value in v.items()}
                    for name, v in found.items()}

        got = client.get_item(TableName="types", Key=key, ReturnConsumedCapacity="TOTAL")
        assert normal(got["Item"]) == normal(item) and got["ConsumedCapacity"]["TableName"] == "types"
        batch = client.batch_get_item(RequestItems={"types": {"Keys": [key, {"pk": {"S": "p"}, "sk": {"S": "-"}}]}})
        assert [normal(found) for found in batch["Responses"]["types"]] == [normal(item)]
        queried = client.query(TableName="types", KeyConditionExpression="pk = :p", Limit=1,
                               ExpressionAttributeValues={":p": {"S": "p"}})
        assert [normal(found) for found in queried["Items"]] == [normal(item)] and queried["Count"] == 1
        scanned = client.scan(TableName="types", ProjectionExpression="b, #m.bs",
                              ExpressionAttributeNames={"#m": "map"})
        assert scanned["Items"] == [{"b": item["b"], "map": {"M": {"bs": {"BS": [b"\x04"]}}}}]
        assert client.get_item(TableName="types", Key={"pk": {"S": "none"}, "sk": {"S": "x"}}).get("Item") is None
