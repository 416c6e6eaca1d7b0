"""The logging policy (msglog.policy) at recording: recipients it names are not written, and a
message whose subject it names, or with no recipient left, is not stored at all. The ingestion log
gets one row saying why — codes counted, the message id and subject, never who was left out."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from msglog import ingestion_log, policy
from msglog.ingestion_log import Outcome
from msglog.tenants import settings

if TYPE_CHECKING:
    from msglog.schemas import RecipientIn

RECORDED = "api"  # the ingestion log's `provider` of rows written at recording (POST /v1/messages)


def recipients(tenant: str, message_id: str, channel: str, subject: str | None,
               given: list[RecipientIn]) -> list[RecipientIn] | None:
    """The recipients of `given` that are logged; None when the message is not logged at all (its
    subject matched, or every recipient was left out). Without a policy, `given` itself."""
    rules = policy.of(settings(tenant).logging_policy)
    if rules is None or not given:
        return given
    why = [rules.screen(r.address, channel, subject) for r in given]
    kept = [r for r, code in zip(given, why, strict=True) if code is None]
    if not kept or policy.NOLOG_CONTENT in why:
        why, kept = _whole_message_left_out(why), []
    _log_left_out(tenant, message_id, subject, why)
    return kept or None


def _whole_message_left_out(why: list[str | None]) -> list[str | None]:
    """Each recipient's reason once the message is not logged at all: its subject's (NOLOG_CONTENT) for
    every one when the policy named the subject, else their own."""
    return [policy.NOLOG_CONTENT if policy.NOLOG_CONTENT in why else code for code in why]


def _log_left_out(tenant: str, message_id: str, subject: str | None, why: list[str | None]) -> None:
    """One ingestion log row for the recipients left out (`why`: per recipient given, None if logged)."""
    left_out = [code for code in why if code]
    if left_out:
        ingestion_log.record(
            tenant, RECORDED, None, Counter(left_out),
            [Outcome(f"{message_id}.{index}", code, message_id, "recorded", subject)
             for index, code in enumerate(why) if code],
            detail=f"recorded: {len(left_out)} of {len(why)} recipients not logged (logging policy)")
