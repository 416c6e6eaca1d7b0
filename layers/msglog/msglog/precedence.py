"""The normalised event vocabulary and SPEC's status precedence.

A recipient's status is the event of highest rank; equal ranks: the later provider timestamp
(and, at the very same instant, the greater event id, so that every order gives one answer).
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
# `queued`: a scheduled message that PATCH /v1/messages/{id} sent on its way (msglog.lifecycle).
INITIAL_STATUS = {"scheduled": "scheduled", "queued": "queued", "sent": "queued", "error": "failed",
                  "canceled": "canceled"}


def rank(event: str) -> int:
    return RANK.get(event, 0)


def precedence(event: str, at: str, event_id: str = "") -> str:
    """The order of statuses as one comparable string: rank, then provider time, then event id.

    Stored with the status, so DynamoDB's condition `current < new` decides, whatever the arrival
    order; the event id breaks exact ties so two events at the same instant still have one winner.
    `at` is fixed-width ISO 8601 (msglog.clock.iso).
    """
    return f"{rank(event):02d}|{at}|{event_id}"


def supersedes(event: str, at: str, event_id: str, current: str | None) -> bool:
    """Whether `event` replaces a status whose precedence string is `current` (None: no status)."""
    return rank(event) > 0 and (current is None or precedence(event, at, event_id) > current)


def message_rank(status: str) -> int:
    """A message's own status (scheduled, queued, sent, error, canceled) in the same precedence: an error
    is a failure."""
    return rank("failed" if status == "error" else status)
