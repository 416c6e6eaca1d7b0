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
