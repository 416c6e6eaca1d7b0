"""The people directory (GET /v1/people?q=): the recorded recipients, found by the start of a word.

Written as messages are recorded (msglog.messages calls `record`) and removed by erasure (`forget`):
  - one entry per person, `T#t#PERSON#<id>` / `PERSON`: name, role and family as the latest message gave
    them, the union of their addresses and of their messages' org units, the time of their latest message;
  - beside it, one item per search token (`TOKEN#<token>`), each a gsi1 row `T#t#PEOPLE#<shard of the
    person>` / `<token>\\x1f<person>`. The tokens: the case-folded, accent-stripped words of the name and of
    each address (an e-mail's local part splits on . _ - +), each whole address, and the whole id.
A recording reads its people's entries (BatchGetItem, 100 a call) and writes only what changes: nothing for
a person who is known as given and had a later message; one UpdateItem (`last_message_at`) for one known
as given; for a new person, their tokens (batched with the recording's other new people's) and the entry;
the entry and the tokens that differ (after a Query of the person's partition) for a new name, role,
family, address or org unit (docs/data-model.md, pattern 24b).

A search is `begins_with(gsi1sk, <folded q>)` on each shard: one Query a shard, merged in token order, then
one BatchGetItem of the page's entries. A person shows once, at the first of their tokens the query matches:
a row at a later one (or a stale one, no longer in the entry's `tokens`) is passed over.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from pynamodb.exceptions import PutError

from msglog import fanout, keys, pages
from msglog.addresses import recipient_key
from msglog.auth import Caller
from msglog.errors import Unavailable
from msglog.listing import ListQuery
from msglog.models import Entity, Message, Person, PersonToken, condition_failed, update_if

if TYPE_CHECKING:  # recording hands over validated recipients; the search never builds them
    from msglog.schemas import RecipientIn

TOKEN_MAX = 100  # characters of a token, and of `q`: a longer word or address is found by its first 100
# logs:recipient (and its any-sender form) finds students only; people:all everyone (SPEC, round 2)
SEARCH_RIGHTS = ("people:all", "logs:recipient", "logs:recipient:any-sender")
WRITE_ATTEMPTS = 5  # rewrites of one entry that lost to another recording at once, before a 503
_WORD = re.compile(r"[^\W_]+")  # letters and digits: "zoe.martin+x@example.com" -> zoe, martin, x, example, com


def fold(text: str) -> str:
    """Case-folded, accents stripped ("Zoë" -> "zoe"), control characters as spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(" " if unicodedata.category(c) == "Cc" else c for c in decomposed if not unicodedata.combining(c))
    return plain.casefold()


def tokens(person_id: str, name: str | None, addresses: Iterable[str]) -> set[str]:
    """What a search finds the person by (the start of any of them)."""
    found = set(_WORD.findall(fold(name or "")))
    for address in addresses:
        folded = fold(address)
        found.add(folded)
        found.update(_WORD.findall(folded))
    found.add(fold(person_id))
    return {token[:TOKEN_MAX] for token in found if token.strip()}


# ------------------------------------------------------------------ recording
@dataclass(slots=True)
class _Given:
    """What one recording says of a person (over all their recipients in it)."""

    name: str | None = None
    role: str | None = None
    family_id: str | None = None
    addresses: set[str] = field(default_factory=set)


_SHOWN = ("name", "role", "family_id")


def record(tenant: str, message: Message, recipients: Iterable[RecipientIn]) -> int:
    """Bring the directory up to date with `message`'s recipients; returns how many entries it wrote."""
    given = _people_of(message, recipients)
    if not given:
        return 0
    known = {entry.person_id: entry for entry in fanout.get_all(
        Person, [(keys.directory_pk(tenant, person_id), keys.PERSON_SK) for person_id in given])}
    at, org_unit = message.created_at, message.org_unit
    touched, rewritten = _changes(given, known, org_unit, at)
    write = partial(_rewrite, tenant, given, org_unit, at)
    fanout.each(lambda person_id: _touch(tenant, person_id, at) or write(person_id), touched)
    # people seen for the first time: their tokens in BatchWriteItems of 25 (the same items whoever writes them),
    # then each entry if it is still absent (else merged with the one written meanwhile)
    new = {person_id: _entry(tenant, person_id, _merge(None, given[person_id], org_unit, at), 1)
           for person_id in rewritten if person_id not in known}
    fanout.save_all(PersonToken, [_token_item(tenant, person_id, token)
                                  for person_id, entry in new.items() for token in entry.tokens])
    fanout.each(lambda entry: _put(entry, None) or write(entry.person_id), list(new.values()))
    fanout.each(write, [person_id for person_id in rewritten if person_id not in new])
    return len(touched) + len(rewritten)


def _people_of(message: Message, recipients: Iterable[RecipientIn]) -> dict[str, _Given]:
    """What the message says of each person among its recipients (the last recipient row of a person wins)."""
    given: dict[str, _Given] = {}
    for recipient in recipients:
        if not recipient.person_id:
            continue
        person = given.setdefault(recipient.person_id, _Given())
        for name in _SHOWN:
            value = getattr(recipient, name)
            if value is not None:
                setattr(person, name, value)
        if message.channel != "push":  # a device token is no address to show or search by
            person.addresses.add(recipient_key(recipient.address, message.channel))
    return given


def _changes(given: dict[str, _Given], known: dict[str, Person], org_unit: str | None,
             at: str) -> tuple[list[str], list[str]]:
    """The people whose entry only gets a later `last_message_at` (touched), and those whose entry changes."""
    touched, rewritten = [], []
    for person_id, person in given.items():
        current = _state(known.get(person_id))
        merged = _merge(current, person, org_unit, at)
        if merged == current:
            continue
        if current is not None and {**merged, "last_message_at": current["last_message_at"]} == current:
            touched.append(person_id)  # only its latest message is new: one UpdateItem
        else:
            rewritten.append(person_id)
    return touched, rewritten


def _state(entry: Person | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {"name": entry.name, "role": entry.role, "family_id": entry.family_id,
            "addresses": set(entry.addresses or ()), "org_units": set(entry.org_units or ()),
            "last_message_at": entry.last_message_at}


def _merge(current: dict[str, Any] | None, person: _Given, org_unit: str | None, at: str) -> dict[str, Any]:
    units = {org_unit} if org_unit else set()
    if current is None:
        return {"name": person.name, "role": person.role, "family_id": person.family_id,
                "addresses": set(person.addresses), "org_units": units, "last_message_at": at}
    latest = at >= current["last_message_at"]  # an older message (a backfill) only fills what is missing
    merged = dict(current)
    for name in _SHOWN:
        value = getattr(person, name)
        if value is not None and (latest or merged[name] is None):
            merged[name] = value
    merged["addresses"] = current["addresses"] | person.addresses
    merged["org_units"] = current["org_units"] | units
    merged["last_message_at"] = max(current["last_message_at"], at)
    return merged


def _touch(tenant: str, person_id: str, at: str) -> bool:
    """`last_message_at` moved on, nothing else; False when the entry changed meanwhile (or went)."""
    return update_if(Person, (keys.directory_pk(tenant, person_id), keys.PERSON_SK),
                     [Person.last_message_at.set(at), Person.version.add(1)],
                     Person.pk.exists() & (Person.last_message_at < at))


def _rewrite(tenant: str, given: dict[str, _Given], org_unit: str | None, at: str, person_id: str) -> None:
    """The entry and its token items, from the person's partition as it is (one consistent Query): the tokens
    it lacks first, then the entry (if its version is still the one read: else again), then stale tokens go."""
    pk = keys.directory_pk(tenant, person_id)
    for _ in range(WRITE_ATTEMPTS):
        found = list(Entity.query(pk, consistent_read=True))
        entry = next((item for item in found if isinstance(item, Person)), None)
        written = {item.token for item in found if isinstance(item, PersonToken)}
        current = _state(entry)
        merged = _merge(current, given[person_id], org_unit, at)
        if merged == current and entry is not None and entry.tokens == written:
            return
        item = _entry(tenant, person_id, merged, int(entry.version) + 1 if entry else 1)
        fanout.save_all(PersonToken, [_token_item(tenant, person_id, token) for token in item.tokens - written])
        if not _put(item, entry):
            continue  # another recording wrote it meanwhile: merge with that
        _delete([PersonToken(pk, keys.person_token_sk(token)) for token in written - item.tokens])
        _restore(tenant, person_id)
        return
    raise Unavailable("the people directory entry of a recipient is being written by other requests: retry")


def _restore(tenant: str, person_id: str) -> None:
    """The token items the stored entry lists and lacks (one consistent Query of the partition): a recording at
    once may have deleted one as stale for the entry it wrote, after this one's entry listed it again. Each
    recording reads after its own deletes, so the one that reads last sees the last entry and every delete."""
    found = list(Entity.query(keys.directory_pk(tenant, person_id), consistent_read=True))
    entry = next((item for item in found if isinstance(item, Person)), None)
    if entry is not None:
        missing = set(entry.tokens or ()) - {item.token for item in found if isinstance(item, PersonToken)}
        fanout.save_all(PersonToken, [_token_item(tenant, person_id, token) for token in missing])


def _entry(tenant: str, person_id: str, merged: dict[str, Any], version: int) -> Person:
    return Person(keys.directory_pk(tenant, person_id), keys.PERSON_SK, person_id=person_id, name=merged["name"],
                  role=merged["role"], family_id=merged["family_id"], addresses=merged["addresses"] or None,
                  org_units=merged["org_units"] or None, last_message_at=merged["last_message_at"],
                  tokens=tokens(person_id, merged["name"], merged["addresses"]), version=version)


def _put(item: Person, read: Person | None) -> bool:
    """The entry, if it is still as read (absent, or at the version read); whether it was written."""
    try:
        item.save(condition=(Person.version == read.version) if read else Person.pk.does_not_exist())
    except PutError as error:
        if not condition_failed(error):
            raise
        return False
    return True


def _token_item(tenant: str, person_id: str, token: str) -> PersonToken:
    return PersonToken(keys.directory_pk(tenant, person_id), keys.person_token_sk(token), person_id=person_id,
                       token=token, gsi1pk=keys.people_search_pk(tenant, keys.people_search_shard(person_id)),
                       gsi1sk=keys.people_search_sk(token, person_id))


def _delete(items: list[Entity]) -> None:
    if items:
        with Entity.batch_write() as batch:
            for item in items:
                batch.delete(item)


def forget(tenant: str, person_id: str) -> int:
    """Erasure: the person's entry and every search token go (one Query of their partition, BatchWriteItem)."""
    found = list(Entity.query(keys.directory_pk(tenant, person_id), consistent_read=True))
    _delete(found)
    return len(found)


# ------------------------------------------------------------------ searching
@dataclass(frozen=True, slots=True)
class _Hit:
    """A token row of the index with its person's entry (None: gone since, e.g. erased)."""

    pk: str
    sk: str
    gsi1pk: str
    gsi1sk: str
    token: str
    person: Person | None


def _hydrate(tenant: str, rows: list[PersonToken]) -> list[_Hit]:
    wanted = list(dict.fromkeys((keys.directory_pk(tenant, row.person_id), keys.PERSON_SK) for row in rows))
    entries = {entry.person_id: entry for entry in Person.batch_get(wanted)}
    return [_Hit(row.pk, row.sk, row.gsi1pk, row.gsi1sk, row.token, entries.get(row.person_id)) for row in rows]


def _show(hit: _Hit) -> dict[str, Any]:
    person = cast(Person, hit.person)  # keep() passes only hits with an entry
    return {"person_id": person.person_id, "name": person.name, "role": person.role, "family_id": person.family_id,
            "addresses": sorted(person.addresses or ()), "org_units": sorted(person.org_units or ()),
            "last_message_at": person.last_message_at}


def search_words(q: str | None) -> list[str]:
    """`q` as the words every one of which must start a token of the person."""
    return [word for word in (w.strip(",;") for w in fold(q or "").split()) if word]


def search(caller: Caller, query: ListQuery) -> dict[str, Any]:
    """People whose name, address or id has a word starting with each word of `q` (no `q`: everyone), in
    token order; one Query per shard a page, `page_budget` rows each at most (rights, role and org units
    are bounded filters on the entries)."""
    caller.require(*SEARCH_RIGHTS)
    students_only = not caller.has("people:all")
    words = search_words(query.q)
    lead = max(words, key=len) if words else None  # the longest word narrows the key range most
    others = list(words)
    if lead is not None:
        others.remove(lead)
    condition = PersonToken.gsi1sk.startswith(lead[:TOKEN_MAX]) if lead else None
    sources = [
        pages.Source(
            f"p{shard}",
            pages.by_page(
                partial(
                    PersonToken.gsi1.query, keys.people_search_pk(caller.tenant, shard), range_key_condition=condition
                ),
                partial(_hydrate, caller.tenant),
            ),
            ("pk", "sk", "gsi1pk", "gsi1sk"),
            "gsi1sk",
        )
        for shard in range(keys.PEOPLE_SHARDS)
    ]

    def keep(hit: _Hit) -> bool:
        person = hit.person
        if person is None or hit.token not in (person.tokens or ()):
            return False
        if students_only and person.role != "student":
            return False
        if "*" not in caller.org_units and not caller.org_units & set(person.org_units or ()):
            return False
        matching = [token for token in person.tokens if lead is None or token.startswith(lead[:TOKEN_MAX])]
        return hit.token == min(matching) and all(any(t.startswith(w) for t in person.tokens) for w in others)

    return pages.key_order_page(caller, "people", replace(query, order="asc"), sources, keep, _show)
