"""The normalised event vocabulary and SPEC's status precedence.

A recipient's status is the event of highest rank; equal ranks: the later provider timestamp.
`unknown` (and the informational `stored`) never change the status.
"""

from __future__ import annotations

RANK: dict[str, int] = {
    "accepted": 1, "queued": 1, "scheduled": 1,
    "sent": 2, "sending": 2,
    "deferred": 3,
    "delivered": 4,
    "bounced": 5, "failed": 5, "dropped": 5, "rejected": 5, "undelivered": 5, "canceled": 5,
    "opened": 6, "read": 6,
    "clicked": 7,
    "unsubscribed": 8,
    "complained": 9,
    "stored": 0,
    "unknown": 0,
}

EVENTS = frozenset(RANK)

# What a recipient shows before any provider has said anything, from the message's own status.
INITIAL_STATUS = {"scheduled": "scheduled", "sent": "queued", "error": "failed", "canceled": "canceled"}


def rank(event: str) -> int:
    return RANK.get(event, 0)


def supersedes(event: str, at: str, current: str | None, current_at: str | None) -> bool:
    """Whether `event` at time `at` replaces the current status (times are fixed-width ISO)."""
    new_rank = rank(event)
    if new_rank == 0:
        return False
    if current is None:
        return True
    old_rank = rank(current)
    return new_rank > old_rank or (new_rank == old_rank and at > (current_at or ""))
