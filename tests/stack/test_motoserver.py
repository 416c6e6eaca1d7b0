"""The local stack's moto answers DynamoDB requests from many clients at once as DynamoDB does:
each request atomic. Plain moto lets two conditional transactions both pass their condition, and
one cancelled transaction put back a copy of the table that undoes another's write."""

from __future__ import annotations

import contextlib
import threading

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
