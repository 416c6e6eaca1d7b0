"""Rows as CSV cells, for the list views' CSV answers and the export files alike."""

from __future__ import annotations

import json
import re
from typing import Any


def flat(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested fields as dotted columns (sender.name); lists as one cell."""
    out: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        elif isinstance(value, list):
            out[f"{prefix}{key}"] = "; ".join(json.dumps(v) if isinstance(v, dict) else str(v) for v in value)
        else:
            out[f"{prefix}{key}"] = value
    return out


def cell(value: Any) -> Any:
    """No spreadsheet formulas from data: a cell starting with = + - @ is quoted as text."""
    if value is None:
        return ""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.match(text) else text


_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
