"""ULIDs: the time-ordered ids users see (they stand in for the seeds' consecutive numbers).

A message id is minted from the message's `created_at`, so sorting by id is sorting by creation
time and a time range becomes a key range (`bounds`).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from hashlib import blake2b

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {c: i for i, c in enumerate(_ALPHABET)}
_RANDOM_BITS = 80


def _encode(value: int) -> str:
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def new_ulid(at: datetime | None = None) -> str:
    ms = _millis(at) if at else time.time_ns() // 1_000_000
    return _encode((ms << _RANDOM_BITS) | int.from_bytes(os.urandom(10), "big"))


def derived_ulid(at: datetime, seed: str) -> str:
    """A ULID of `at` whose random part comes from `seed`: a client's retry gets the same id."""
    digest = int.from_bytes(blake2b(seed.encode(), digest_size=10).digest(), "big")
    return _encode((_millis(at) << _RANDOM_BITS) | digest)


def bounds(start: datetime | None, end: datetime | None) -> tuple[str, str]:
    """The smallest and largest ULID minted within [start, end] (open ends: all time)."""
    lo = (_millis(start) << _RANDOM_BITS) if start else 0
    hi = ((_millis(end) + 1) << _RANDOM_BITS) - 1 if end else (1 << 128) - 1
    return _encode(max(lo, 0)), _encode(min(hi, (1 << 128) - 1))


def is_ulid(value: str) -> bool:
    return len(value) == 26 and value[0] <= "7" and all(c in _DECODE for c in value)


def ulid_time(value: str) -> datetime:
    number = 0
    for c in value:
        number = (number << 5) | _DECODE[c]
    return datetime.fromtimestamp((number >> _RANDOM_BITS) / 1000, tz=UTC)


def send_id(message_id: str, recipient_key: str) -> str:
    """A send's (a delivery's) id: its message's id, then a digest of its recipient, so sends sort by time."""
    return f"{message_id}-{blake2b(recipient_key.encode(), digest_size=5).hexdigest()}"
