"""moto's server for the benchmarks (bench/local_aws.py), with one change to its DynamoDB: a transaction backs
up the items it names, not the tables.

moto's TransactWriteItems deep-copies the whole table once per item of the transaction, for its rollback:
seconds a transaction on the bench's table (tens of thousands of items), where DynamoDB's time does not grow
with the table. The status writer moves counts in transactions (msglog.counts), so that copy, not the
service, set the bench's pace (and its length past 10 minutes). Here the items a transaction names are
copied before it and put back if it fails; what moto does otherwise is unchanged.
"""

from __future__ import annotations

import copy
import sys
from typing import Any


def _patch() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class _TablesNotCopied:
        """`copy` as moto's DynamoDB backend uses it: only its transactions deep-copy a Table."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    models.copy = _TablesNotCopied  # type: ignore[assignment]
    original = models.DynamoDBBackend.transact_write_items

    def _slot(table: Table, key: dict[str, Any]) -> tuple[Any, Any]:
        return DynamoType(key[table.hash_key_attr]), (DynamoType(key[table.range_key_attr])
                                                       if table.range_key_attr else None)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[Table, Any, Any, Any]] = []
        for entry in transact_items:
            for op in entry.values():
                table = self.tables.get(op.get("TableName"))
                key = op.get("Key") or op.get("Item")
                try:
                    hash_key, range_key = _slot(table, key)
                except (AttributeError, KeyError, TypeError):
                    continue  # moto refuses it itself
                held = table.items.get(hash_key)
                old = held.get(range_key) if range_key is not None and held is not None else held
                saved.append((table, hash_key, range_key, copy.deepcopy(old)))
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, old in reversed(saved):
                if range_key is None:
                    if old is None:
                        table.items.pop(hash_key, None)
                    else:
                        table.items[hash_key] = old
                elif old is None:
                    table.items.get(hash_key, {}).pop(range_key, None)
                else:
                    table.items[hash_key][range_key] = old
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def main() -> None:
    _patch()
    from moto.server import main as serve

    serve(sys.argv[1:])


if __name__ == "__main__":
    main()
