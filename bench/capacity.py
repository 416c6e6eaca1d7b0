"""DynamoDB capacity units computed from item sizes, as DynamoDB bills them.

moto reports a constant consumed capacity, so nothing here asks it: sizes come from the items
themselves, in DynamoDB's wire format ({"S": "..."}), by the published rules (developer guide,
"DynamoDB item sizes and formats"):
  attribute name bytes + value bytes; a number: 1 byte per two significant digits + 1;
  binary: raw bytes; null and boolean: 1; a list or map: 3 bytes + 1 byte per element + elements.
Writes cost 1 unit per started KB, once for the table and once more for every global secondary
index the item is in (it is in an index when it has that index's key attributes): by the whole
item for a projection ALL; by the keys and the attributes it includes otherwise (KEYS_ONLY,
INCLUDE), which an update that leaves those alone does not write at all. Reads cost 1
unit per started 4 KB, half for an eventually consistent read; a Query or Scan rounds the total of
what it returned, a GetItem or BatchGetItem rounds each item.
"""

from __future__ import annotations

import base64
import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
TABLE_KEYS = ("pk", "sk")


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, str]  # hash key, range key
    projected: tuple[str, ...] | None  # the non-key attributes of a KEYS_ONLY or INCLUDE index; None: ALL


@functools.cache
def table_indexes() -> tuple[Index, ...]:
    """The table's global secondary indexes, as template.yaml declares them."""
    from local.template import resources

    declared = resources()["Table"]["Properties"]["GlobalSecondaryIndexes"]
    return tuple(Index(index["IndexName"], tuple(key["AttributeName"] for key in index["KeySchema"]),
                       None if index["Projection"]["ProjectionType"] == "ALL"
                       else tuple(index["Projection"].get("NonKeyAttributes", ())))
                 for index in declared)


def number_size(text: str) -> int:
    """Bytes of a DynamoDB number: 1 per two significant digits (leading/trailing zeros trimmed) + 1."""
    digits = Decimal(text).normalize().as_tuple().digits
    significant = len("".join(map(str, digits)).strip("0")) or 1
    return math.ceil(significant / 2) + 1


def _binary_size(value: bytes | str) -> int:
    # Requests built by SDKs carry raw bytes; JSON on the wire carries base64 text.
    return len(value) if isinstance(value, bytes | bytearray) else len(base64.b64decode(value))


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one attribute value (without its name)."""
    (kind, data), = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        return number_size(data)
    if kind == "B":
        return _binary_size(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(v.encode()) for v in data)
    if kind == "NS":
        return sum(number_size(v) for v in data)
    if kind == "BS":
        return sum(_binary_size(v) for v in data)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_size(v) for name, v in data.items())
    raise ValueError(f"not a DynamoDB attribute value type: {kind}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """Bytes of an item: every attribute's name and value."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    """Units of one write of an item of `size` bytes (at least 1)."""
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def indexes_of(item: Mapping[str, Any], indexes: Iterable[Index] | None = None) -> list[Index]:
    """The global secondary indexes the item is copied into: those whose key attributes it has."""
    return [index for index in (table_indexes() if indexes is None else indexes)
            if all(attribute in item for attribute in index.keys)]


def item_write_units(item: Mapping[str, Mapping[str, Any]], indexes: Iterable[Index] | None = None,
                     *, changed: Iterable[str] | None = None) -> int:
    """Units of writing `item`: the table's copy and every index copy. `changed`: for an update,
    the attributes it set or removed (an index that does not project them all is written only when
    one of its own attributes is among them)."""
    whole = write_units(item_size(item))
    units = whole
    for index in indexes_of(item, indexes):
        if index.projected is None:
            units += whole
            continue
        own = (*TABLE_KEYS, *index.keys, *index.projected)
        if changed is None or set(own) & set(changed):
            units += write_units(item_size({name: item[name] for name in own if name in item}))
    return units


def read_units(total_bytes: int, *, consistent: bool = False) -> float:
    """Units of one read of `total_bytes` (a Query's whole result, or one item of a GetItem)."""
    units = max(1, math.ceil(total_bytes / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def query_read_units(items: Iterable[Mapping[str, Any]], *, consistent: bool = False) -> float:
    """A Query or Scan: the sizes of every item it returned, summed, then rounded up once."""
    return read_units(sum(item_size(item) for item in items), consistent=consistent)


def get_read_units(items: Iterable[Mapping[str, Any]], missing: int = 0, *, consistent: bool = False) -> float:
    """GetItem / BatchGetItem: each item rounded up on its own; a key not found still costs one unit."""
    return sum(read_units(item_size(item), consistent=consistent) for item in items) + \
        missing * read_units(0, consistent=consistent)
