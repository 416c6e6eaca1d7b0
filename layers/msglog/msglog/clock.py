"""Time helpers: one timestamp format for keys and answers (UTC, microseconds, fixed width)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def iso(at: datetime) -> str:
    """Fixed-width UTC ISO 8601, so that strings sort as times do."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


# The instants the service handles: fixed-width ISO years, and ULID time (48-bit milliseconds).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def in_range(at: datetime) -> datetime:
    """`at` if the service can store and order it; ValueError (a 400 naming the field) otherwise."""
    if not EARLIEST <= at <= LATEST:
        raise ValueError("must be between 1970-01-01 and 9999-01-01 (UTC)")
    return at
