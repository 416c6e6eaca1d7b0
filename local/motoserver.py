"""moto in server mode, with each DynamoDB request atomic, as DynamoDB's are.

moto's backend takes no lock: a conditional write checks its condition and then writes, and a
transaction checks, writes, and on a refused condition puts back a copy of the whole table taken
before it began, so two requests at once can both pass a condition DynamoDB would let only one
pass, and a cancelled transaction can undo another request's write. DynamoDB makes each request
(a transaction included) atomic; here one DynamoDB request at a time reaches the backend. The
functions still run at once and interleave between their requests: the races that DynamoDB would
show (a read, then a write based on it) show here too.

`lean_dynamodb` takes away three costs moto has and DynamoDB has not: a transaction deep-copies every table
it names (for its rollback), a Query sorts every item of the table to find one partition (an index's Query
still reads them all: moto keeps no index), and the items a read returns, already in DynamoDB's JSON, are
walked attribute by attribute against botocore's model before they are written out. On `make run`'s demo
table (~3,000 items) the status writer's count transactions held the lock ~0.3 s each and a Query took
~0.1 s: the console's sent log answered in 5-15 s; after the first two, the model walk was 60% of the rest.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server


class AtomicDynamoDB:
    """WSGI middleware: DynamoDB's JSON API calls (X-Amz-Target: DynamoDB_…) one at a time."""

    def __init__(self, app: Any):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return self.app(environ, start_response)
        with self.lock:  # the whole answer is built under the lock: moto's responses are small bodies
            return list(self.app(environ, start_response))


class AtomicMotoServer(ThreadedMotoServer):
    def _server_entry(self) -> None:
        lean_dynamodb()
        self._server = make_server(self._ip_address, self._port,
                                   AtomicDynamoDB(DomainDispatcherApplication(create_backend_app)), True,
                                   request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


_query = threading.local()  # what the Query running in this thread reads: a partition, _UNSORTED items, None: all
_UNSORTED = object()


def lean_dynamodb() -> None:
    """A transaction backs up the items it names, not its tables, and puts them back if it fails; a Query of
    the table walks only its partition, and one of an index no longer sorts the whole table before it sorts
    what it found; the items a read returns are written out as they are. What moto answers is unchanged
    (tests/stack/test_motoserver.py). Idempotent."""
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoResult

    if getattr(models.DynamoDBBackend.transact_write_items, "items_backed_up", False):
        return

    class _TablesNotCopied:
        """`copy` as moto's DynamoDB backend uses it: only its transactions deep-copy a Table."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    models.copy = _TablesNotCopied  # type: ignore[assignment]
    transact, query, all_items = models.DynamoDBBackend.transact_write_items, Table.query, Table.all_items
    serialize = DynamoResult.execute_result

    def _slot(table: Table, key: dict[str, Any]) -> tuple[Any, Any]:
        return DynamoType(key[table.hash_key_attr]), (DynamoType(key[table.range_key_attr])
                                                       if table.range_key_attr else None)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[Table, Any, Any, Any]] = []
        for entry in transact_items:
            for op in entry.values():
                table = self.tables.get(op.get("TableName"))
                try:
                    hash_key, range_key = _slot(table, op.get("Key") or op.get("Item"))
                except (AttributeError, KeyError, TypeError):
                    continue  # moto refuses it itself
                held = table.items.get(hash_key)
                old = held.get(range_key) if range_key is not None and held is not None else held
                saved.append((table, hash_key, range_key, copy.deepcopy(old)))
        try:
            transact(self, transact_items)
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

    def partition_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        # an index Query sorts what it finds by the index's keys and then the table's: no order needed before
        _query.read = _UNSORTED if index_name else hash_key if self.range_key_attr else None
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _query.read = None

    def partition_items(self: Table) -> Any:
        read = getattr(_query, "read", None)
        if read is None:
            return all_items(self)
        if read is _UNSORTED:
            return [item for held in self.items.values()
                    for item in (held.values() if self.range_key_attr else [held])]
        return sorted(self.items.get(read, {}).values(), key=lambda item: item.range_key)

    def items_as_they_are(self: DynamoResult, context: Any) -> Any:
        if context.operation_model.name not in _ITEM_READS:
            return serialize(self, context)
        status, headers, _ = serialize(DynamoResult({}), context)  # moto's status and headers for the operation
        return status, headers, json.dumps(self.result, separators=(",", ":"), default=_binary)

    transact_write_items.items_backed_up = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    Table.query = partition_query  # type: ignore[method-assign]
    Table.all_items = partition_items  # type: ignore[method-assign]
    DynamoResult.execute_result = items_as_they_are  # type: ignore[method-assign, assignment]


_ITEM_READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})


def _binary(value: Any) -> str:
    """A B or BS value: moto hands the serialiser raw bytes, DynamoDB's JSON carries them in base64."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not DynamoDB JSON")
