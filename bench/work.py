"""What a window of DynamoDB calls cost: requests, write units and read units, from item sizes.

Writes are priced from the items written: a Put's item is in its request; an update's new item is
read back afterwards (`read_items`, outside any meter window), because DynamoDB bills an update by
the whole item it leaves, in the table and in every index the item is in (an index that projects
only some attributes: if the update named one of them; bench.capacity). A write whose condition
failed still costs the existing item's size in the table (no index is touched); a transaction's
writes cost twice. A delete's item size is not known here: it counts as the least a write costs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bench import capacity
from bench.meter import Call, Window

Key = tuple[str, str]
CONDITION_FAILED = "ConditionalCheckFailedException"


@dataclass
class Work:
    requests: int = 0
    operations: Counter = field(default_factory=Counter)
    write_units: float = 0
    read_units: float = 0
    items_read: int = 0  # items a Query/Scan examined, or a Get returned
    writes_by_item: Counter = field(default_factory=Counter)  # "UpdateItem delivery" -> write units
    reads_by_operation: Counter = field(default_factory=Counter)  # "BatchGetItem" -> read units
    written_sizes: dict[str, list[int]] = field(default_factory=dict)  # item type -> sizes of the items written
    queries: list[dict[str, Any]] = field(default_factory=list)  # per Query/Scan: index, items, bytes, units

    def average_size(self, kind: str) -> float | None:
        """Mean size in bytes of the items of type `kind` written."""
        sizes = self.written_sizes.get(kind)
        return sum(sizes) / len(sizes) if sizes else None


def key_of(item: dict[str, Any]) -> Key:
    return item["pk"]["S"], item["sk"]["S"]


def _kind(item: dict[str, Any] | None) -> str:
    return (item or {}).get("type", {}).get("S", "?")


def updated_keys(window: Window) -> set[Key]:
    """Items whose new size only DynamoDB knows after the call: updates, and failed conditional puts."""
    wanted = set()
    for call in window.calls:
        if call.operation == "UpdateItem":
            wanted.add(key_of(call.params["Key"]))
        elif call.operation == "TransactWriteItems":
            wanted.update(key_of(w["Update"]["Key"]) for w in call.params["TransactItems"] if "Update" in w)
        elif call.operation == "PutItem" and call.error == CONDITION_FAILED:
            wanted.add(key_of(call.params["Item"]))
    return wanted


def _returned(call: Call) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each read of `call`: its parameters (a BatchGetItem's, per table) and the items it returned."""
    response = call.response or {}
    if call.operation == "GetItem":
        return [(call.params, [response["Item"]] if response.get("Item") else [])]
    if call.operation == "BatchGetItem":
        return [(request, (response.get("Responses") or {}).get(table, []))
                for table, request in call.params["RequestItems"].items()]
    if call.operation in ("Query", "Scan"):
        return [(call.params, response.get("Items", []))]
    return []


def _projected(params: dict[str, Any]) -> bool:
    """A read through a ProjectionExpression of the table: DynamoDB bills the whole item, not the
    attributes returned (an index bills its own entries, as returned)."""
    return "ProjectionExpression" in params and "IndexName" not in params


def projected_keys(window: Window) -> set[Key]:
    """Items read through a projection: their whole size is read back (as it is after the run)."""
    return {key_of(item) for call in window.calls for params, items in _returned(call) if _projected(params)
            for item in items if "pk" in item and "sk" in item}


def measure(window: Window, read_items: Callable[[Iterable[Key]], dict[Key, dict[str, Any]]]) -> Work:
    """Price every call of `window`; `read_items` returns the current items of the given keys."""
    wanted = updated_keys(window) | projected_keys(window)
    after = read_items(wanted) if wanted else {}
    work = Work(requests=window.requests)
    for call in window.calls:
        work.operations[call.operation] += 1
        _price_write(call, after, work)
        _price_read(call, after, work)
    return work


def updated_attributes(params: dict[str, Any]) -> set[str]:
    """The attribute names an update expression names (pynamodb writes every name as a #placeholder),
    not those only its condition names."""
    names = params.get("ExpressionAttributeNames") or {}
    return {
        names.get(placeholder, placeholder) for placeholder in re.findall(r"#\w+", params.get("UpdateExpression") or "")
    }


def _write(work: Work, label: str, units: float, item: dict[str, Any] | None = None) -> None:
    work.write_units += units
    work.writes_by_item[label] += units
    if item:
        work.written_sizes.setdefault(_kind(item), []).append(capacity.item_size(item))


def _price_write(call: Call, after: dict[Key, dict[str, Any]], work: Work) -> None:
    op, params = call.operation, call.params
    if op == "PutItem":
        item = params["Item"]
        if call.error == CONDITION_FAILED:
            existing = after.get(key_of(item))
            _write(work, f"PutItem {_kind(item)} (condition failed)",
                   capacity.write_units(capacity.item_size(existing) if existing else 0))
        elif call.error is None:
            _write(work, f"PutItem {_kind(item)}", capacity.item_write_units(item), item)
    elif op == "BatchWriteItem":
        for requests in params["RequestItems"].values():
            for request in requests:
                if "PutRequest" in request:
                    item = request["PutRequest"]["Item"]
                    _write(work, f"BatchWriteItem {_kind(item)}", capacity.item_write_units(item), item)
                else:  # the deleted item's size is unknown here; the least a delete costs
                    _write(work, "BatchWriteItem delete", 1)
    elif op == "UpdateItem":
        item = after.get(key_of(params["Key"]))
        if call.error == CONDITION_FAILED:
            _write(work, f"UpdateItem {_kind(item)} (condition failed)",
                   capacity.write_units(capacity.item_size(item) if item else 0))
        elif call.error is None:
            _write(work, f"UpdateItem {_kind(item)}",
                   capacity.item_write_units(item, changed=updated_attributes(params)) if item else 1, item)
    elif op == "TransactWriteItems":  # every write of a transaction costs twice (prepare, commit)
        for write in params["TransactItems"]:
            (action, detail), = write.items()
            if action == "Put":
                item = detail["Item"]
            elif action == "Update":
                item = after.get(key_of(detail["Key"]))
            else:
                item = None
            changed = updated_attributes(detail) if action == "Update" else None
            _write(work, f"TransactWriteItems {action} {_kind(item)}",
                   2 * (capacity.item_write_units(item, changed=changed) if item else 1), item)
    elif op == "DeleteItem" and call.error is None:
        old = (call.response or {}).get("Attributes")
        _write(work, f"DeleteItem {_kind(old)}", capacity.item_write_units(old) if old else 1)
    elif op == "DeleteItem":
        _write(work, "DeleteItem (condition failed)", 1)


def _whole(items: list[dict[str, Any]], after: dict[Key, dict[str, Any]]) -> list[dict[str, Any]]:
    """The items as DynamoDB bills them: whole, when they were read through a projection."""
    return [after.get(key_of(item), item) if "pk" in item and "sk" in item else item for item in items]


def _price_read(call: Call, after: dict[Key, dict[str, Any]], work: Work) -> None:
    for params, items in _returned(call):
        if _projected(params):
            items = _whole(items, after)
        consistent = bool(params.get("ConsistentRead"))
        if call.operation in ("GetItem", "BatchGetItem"):
            asked = len(params["Keys"]) if "Keys" in params else 1
            units = capacity.get_read_units(items, missing=asked - len(items), consistent=consistent)
            work.read_units += units
            work.reads_by_operation[call.operation] += units
            work.items_read += len(items)
            continue
        examined = (call.response or {}).get("ScannedCount", len(items)) if call.operation == "Scan" else len(items)
        size = sum(capacity.item_size(item) for item in items)  # a filtered Scan: only a lower bound
        units = capacity.read_units(size, consistent=consistent and not params.get("IndexName"))
        work.read_units += units
        work.reads_by_operation[call.operation] += units
        work.items_read += examined
        work.queries.append({"operation": call.operation, "index": params.get("IndexName") or "table",
                             "items": examined, "bytes": size, "read_units": units})
