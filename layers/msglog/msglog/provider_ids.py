"""Who owns a provider message id: the first message that recorded it.

Provider events without our message id find their delivery through the provider's message id (a
link per id and recipient, msglog.ingest). Had a second message been able to record the same id, it
would have taken over that id's later and pending events — with their subjects — whatever org unit
either was recorded in. So each id is claimed once (`T#t#PMIDCLAIM#<digest>` / `CLAIM`, a conditional put)
before anything of a message is written, and a claim by another message is a 409 naming the field.
The owner claiming again (a retried request, a recipient added later) succeeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from pynamodb.exceptions import DeleteError, PutError

from msglog import fanout, keys
from msglog.addresses import recipient_key
from msglog.clock import iso, now
from msglog.errors import Conflict, FieldError
from msglog.models import Entity, Message, ProviderMessageClaim, ProviderMessageLink, condition_failed

if TYPE_CHECKING:
    from msglog.schemas import RecipientIn

# A claim whose message was never completely recorded (no message item) this long after it was
# made is abandoned: recording takes seconds (a Lambda call lasts 15 minutes at most).
ABANDONED_AFTER = timedelta(minutes=30)


def claim(tenant: str, message_id: str, channel: str, recipients: Sequence[RecipientIn]) -> None:
    """Claim the provider message ids of `recipients` for `message_id`; a 409 naming each field whose
    id belongs to another message, with nothing claimed by this call left behind."""
    fields, links = _ids_of(tenant, channel, recipients)
    if not fields:
        return
    owners, linked = _owners_now(tenant, fields, links)
    taken = [pmid for pmid in fields if _owner(tenant, owners.get(pmid), linked.get(pmid)) not in (None, message_id)]
    made: list[str] = []
    if not taken:
        made, taken = _claim_unclaimed(tenant, message_id, fields, owners)
    if taken:
        fanout.each(lambda pmid: _release(tenant, pmid, message_id), made)  # a race lost: give back the rest
        raise Conflict("a provider message id belongs to the message that first recorded it",
                       [FieldError(field, "is already recorded for another message")
                        for pmid in taken for field in fields[pmid]])


def _ids_of(tenant: str, channel: str,
            recipients: Sequence[RecipientIn]) -> tuple[dict[str, list[str]], dict[tuple[str, str], str]]:
    """The provider message ids given, with the fields giving each; and the keys of their links."""
    fields: dict[str, list[str]] = {}  # provider message id -> the fields giving it
    links: dict[tuple[str, str], str] = {}  # link key -> its provider message id
    for index, recipient in enumerate(recipients):
        if pmid := recipient.provider_message_id:
            fields.setdefault(pmid, []).append(f"recipients[{index}].provider_message_id")
            rkey = recipient_key(recipient.address, channel)
            links[(keys.provider_message_pk(tenant, pmid), keys.link_sk(rkey))] = pmid
    return fields, links


def _owners_now(tenant: str, fields: dict[str, list[str]],
                links: dict[tuple[str, str], str]) -> tuple[dict[str, ProviderMessageClaim], dict[str, str]]:
    """Each id's claim, and for ids recorded before claims existed the message their link names: one
    consistent BatchGetItem."""
    claims = {(keys.provider_message_claim_pk(tenant, pmid), keys.CLAIM_SK): pmid for pmid in fields}
    owners: dict[str, ProviderMessageClaim] = {}
    linked: dict[str, str] = {}
    for item in fanout.get_all(Entity, list(claims) + list(links), consistent=True):
        if isinstance(item, ProviderMessageClaim):
            owners[claims[(item.pk, item.sk)]] = item
        elif isinstance(item, ProviderMessageLink):
            linked.setdefault(links[(item.pk, item.sk)], item.message_id)
    return owners, linked


def _claim_unclaimed(tenant: str, message_id: str, fields: dict[str, list[str]],
                     owners: dict[str, ProviderMessageClaim]) -> tuple[list[str], list[str]]:
    """Claim the ids this message does not hold yet, at once: (those claimed, those another message
    claimed meanwhile)."""
    unclaimed = [pmid for pmid in fields if pmid not in owners or owners[pmid].message_id != message_id]
    results = fanout.each(lambda pmid: _put(tenant, pmid, message_id, owners.get(pmid)), unclaimed)
    made = [pmid for pmid, won in zip(unclaimed, results, strict=True) if won]
    taken = [pmid for pmid, won in zip(unclaimed, results, strict=True) if not won]
    return made, taken


def _owner(tenant: str, claimed: ProviderMessageClaim | None, linked: str | None) -> str | None:
    """The message owning an id: its claim's, unless that one was abandoned; else the one its link names."""
    if claimed is None:
        return linked
    if claimed.claimed_at < iso(now() - ABANDONED_AFTER) and not _recorded(tenant, claimed.message_id):
        return None
    return claimed.message_id


def _recorded(tenant: str, message_id: str) -> bool:
    try:
        Message.get(keys.message_pk(tenant, message_id), keys.META_SK)
    except Message.DoesNotExist:
        return False
    return True


def _put(tenant: str, pmid: str, message_id: str, abandoned: ProviderMessageClaim | None) -> bool:
    """Claim `pmid` unless another message did meanwhile (or, taking over an abandoned claim, unless
    that claim changed); whether this message owns it now."""
    item = ProviderMessageClaim(keys.provider_message_claim_pk(tenant, pmid), keys.CLAIM_SK, message_id=message_id,
                                claimed_at=iso(now()))
    if abandoned is None:
        condition = ProviderMessageClaim.pk.does_not_exist()
    else:
        condition = (ProviderMessageClaim.message_id == abandoned.message_id) \
            & (ProviderMessageClaim.claimed_at == abandoned.claimed_at)
    try:
        item.save(condition=condition | (ProviderMessageClaim.message_id == message_id))
        return True
    except PutError as error:
        if not condition_failed(error):
            raise
    return False


def _release(tenant: str, pmid: str, message_id: str) -> None:
    try:
        ProviderMessageClaim(keys.provider_message_claim_pk(tenant, pmid), keys.CLAIM_SK).delete(
            condition=ProviderMessageClaim.message_id == message_id)
    except DeleteError as error:
        if not condition_failed(error):
            raise
