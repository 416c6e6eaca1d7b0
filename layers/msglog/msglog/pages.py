"""One page of a log view, read from one or more key ranges (shards) and merged; and how every list
view serves it (`serve_page`: key order or a bounded sort, the signed cursor, row filters). Below the
views and the tenant's logs that use it.

Each source is a single Query on one partition of the table or an index. A page reads each
source at most `budget` items, keeps what `keep` accepts, and merges the sources by their sort
key. The position (per source: where to resume, or done) goes into the signed cursor.

Merging is exact: an item is only emitted when no source could still hold a better one that
was not read yet, and a source resumes right after the last item it gave to a page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from msglog import cursor
from msglog.auth import Caller
from msglog.config import config
from msglog.errors import BadRequest, FieldError, invalid
from msglog.fanout import BATCH_GET_MAX
from msglog.listing import ListQuery

DONE = "done"


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    query: Callable[..., Iterable[Any]]  # a Model/Index .query bound to its key condition
    key_attributes: tuple[str, ...]  # what ExclusiveStartKey needs (table and index keys)
    sort_attribute: str


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    position: dict[str, Any] | None  # None: nothing more
    examined: int


def _resume_key(item: Any, source: Source) -> dict[str, str]:
    return {name: getattr(item, name) for name in source.key_attributes}


@dataclass(frozen=True, slots=True)
class _SourceRead:
    """What one source gave a page."""

    found: list[Any]  # the items `keep` accepted, in key order
    resume: Any  # DONE, or the key to resume after the last item read
    frontier: list[Any]  # the sort value read up to, when the source stopped short of a page: past it is unknown
    seen: int


def _read_source(source: Source, start: Any, *, keep: Callable[[Any], bool], limit: int, descending: bool,
                 budget: int) -> _SourceRead:
    """Up to `limit` kept items of one source from `start`, reading at most `budget` items."""
    if start == DONE:
        return _SourceRead([], DONE, [], 0)
    results = source.query(
        scan_index_forward=not descending,
        last_evaluated_key={k: {"S": v} for k, v in start.items()} if start else None,
        page_size=min(budget, max(limit + 1, 25)),
    )
    found: list[Any] = []
    seen = 0
    for item in results:
        seen += 1
        if keep(item):
            found.append(item)
        if len(found) >= limit or seen >= budget:
            frontier = [getattr(item, source.sort_attribute)] if len(found) < limit else []
            return _SourceRead(found, _resume_key(item, source), frontier, seen)
    return _SourceRead(found, DONE, [], seen)


def _merged(reads: dict[str, _SourceRead], by: dict[int, Source], limit: int, descending: bool) -> list[Any]:
    """The first `limit` items in sort order among those no source could still better: an item past
    a source's frontier waits for a later page."""
    frontier = [value for got in reads.values() for value in got.frontier]

    def safe(item: Any) -> bool:
        value = getattr(item, by[id(item)].sort_attribute)
        return all((value >= f) if descending else (value <= f) for f in frontier)

    candidates = [item for got in reads.values() for item in got.found if safe(item)]
    candidates.sort(
        key=lambda item: (getattr(item, by[id(item)].sort_attribute), by[id(item)].name), reverse=descending
    )
    return candidates[:limit]


def _next_start(source: Source, got: _SourceRead, emitted: list[Any], start: Any) -> Any:
    """Where the source resumes: after all it read when the page took everything it found, else right
    after the last item it gave the page (or where it started, if none)."""
    if len(emitted) == len(got.found):
        return got.resume
    if emitted:
        return _resume_key(emitted[-1], source)
    return start


def read(sources: list[Source], *, keep: Callable[[Any], bool], limit: int, descending: bool,
         position: dict[str, Any] | None, budget: int) -> Page:
    position = position or {}
    reads = {source.name: _read_source(source, position.get(source.name), keep=keep, limit=limit,
                                       descending=descending, budget=budget) for source in sources}
    by = {id(item): source for source in sources for item in reads[source.name].found}
    emitted = _merged(reads, by, limit, descending)
    return Page(emitted, _next_position(sources, reads, by, emitted, position), sum(got.seen for got in reads.values()))


def _next_position(sources: list[Source], reads: dict[str, _SourceRead], by: dict[int, Source], emitted: list[Any],
                   position: dict[str, Any]) -> dict[str, Any] | None:
    """Each source's start for the next page; None when every source is done."""
    next_position = {source.name: _next_start(source, reads[source.name],
                                              [item for item in emitted if by[id(item)] is source],
                                              position.get(source.name))
                     for source in sources}
    return next_position if any(value != DONE for value in next_position.values()) else None


def read_all(sources: list[Source], *, cap: int) -> tuple[list[Any], int, bool]:
    """Every item of the sources' key ranges, for a page sorted by something that is not a key
    (msglog.views: sort=recipient|status). At most `cap` + 1 items are read in all; `complete` is
    False when the ranges hold more than `cap` (the caller refuses rather than sort a part)."""
    items: list[Any] = []
    for source in sources:
        left = cap + 1 - len(items)
        items.extend(source.query(limit=left, page_size=min(left, 500)))
        if len(items) > cap:
            return items[:cap], len(items), False
    return items, len(items), True


def by_page(query: Callable[..., Iterable[Any]], per_page: Callable[[list[Any]], Iterable[Any]],
            *, keys_per_item: int = 1) -> Callable[..., Iterator[Any]]:
    """`query` with `per_page` applied to each page of its items (at most one BatchGetItem's keys,
    `keys_per_item` of them an item), in order."""

    def run(**kwargs: Any) -> Iterator[Any]:
        size = min(kwargs.get("page_size") or BATCH_GET_MAX, BATCH_GET_MAX // keys_per_item)
        chunk: list[Any] = []
        for found in query(**kwargs):
            chunk.append(found)
            if len(chunk) == size:
                yield from per_page(chunk)
                chunk = []
        if chunk:
            yield from per_page(chunk)

    return run


def hydrated(model: Any, query: Callable[..., Iterable[Any]]) -> Callable[..., Iterator[Any]]:
    """The Query of an index that holds keys only (gsi4-gsi6: keys and type) as the table's whole items, in the index's
    order: one BatchGetItem per page of keys, eventually consistent like the index. A key whose
    item is gone by then (an erasure moved it; the index lags) is skipped."""
    return by_page(query, lambda found: _items(model, [(item.pk, item.sk) for item in found]))


def _items(model: Any, wanted: list[tuple[str, str]]) -> list[Any]:
    by_key = {(item.pk, item.sk): item for item in model.batch_get(wanted)}
    return [by_key[key] for key in wanted if key in by_key]


# ------------------------------------------------------------------ serving a view's page
SortKey = Callable[[Any], list[Any]]  # a row's sort values, for sort=recipient|status and the like
Finish = Callable[[list[Any], list[dict[str, Any]]], Any]  # adds to a page's rows what their items do not hold


def serve_page(caller: Caller, view: str, query: ListQuery, sources: list[Source],
               keep: Callable[[Any], bool], show: Callable[[Any], dict[str, Any]],
               sorts: dict[str, SortKey] | None = None,
               finish: Finish | None = None) -> dict[str, Any]:
    """One page in the view's key order (sort=date), or in one of `sorts` (bounded: `sorted_page`);
    `finish(items, rows)` adds to the page's rows what they need beyond their items (msglog.rows)."""
    if query.sort != "date" and query.sort not in (sorts or {}):
        raise invalid("sort", f"this view sorts by {' or '.join(['date', *(sorts or {})])}")
    if query.sort == "date":
        return key_order_page(caller, view, query, sources, keep, show, finish)
    position = (
        cursor.decode(query.cursor, tenant=caller.tenant, view=view, query=query.bound()) if query.cursor else None
    )
    items, position, examined = sorted_page(sources, keep, (sorts or {})[query.sort], query, position)
    return _page(caller, view, query, items, position, examined, show, finish)


def key_order_page(caller: Caller, view: str, query: ListQuery, sources: list[Source],
                   keep: Callable[[Any], bool], show: Callable[[Any], dict[str, Any]],
                   finish: Finish | None = None) -> dict[str, Any]:
    """One page in the sources' own key order (each a Query, merged): any number of items, `page_budget` a source."""
    position = (
        cursor.decode(query.cursor, tenant=caller.tenant, view=view, query=query.bound()) if query.cursor else None
    )
    page = read(sources, keep=keep, limit=query.limit, descending=query.descending, position=position,
                      budget=config().page_budget)
    return _page(caller, view, query, page.items, page.position, page.examined, show, finish)


def _page(caller: Caller, view: str, query: ListQuery, items: list[Any], position: Any, examined: int,
          show: Callable[[Any], dict[str, Any]], finish: Finish | None) -> dict[str, Any]:
    shown = [show(item) for item in items]
    if finish and items:
        finish(items, shown)
    next_cursor = cursor.encode(position, tenant=caller.tenant, view=view, query=query.bound()) if position else None
    return {"items": shown, "next_cursor": next_cursor, "examined": examined}


def sorted_page(sources: list[Source], keep: Callable[[Any], bool], key: SortKey, query: ListQuery,
                position: dict[str, Any] | None) -> tuple[list[Any], dict[str, Any] | None, int]:
    """A page in an order that is not the view's key order: every item of the range is read (at most
    `sort_max_items`, 1,000: ~1 MB, ~125 RCU; else 400 naming `sort`), sorted by `key` then by the
    item's own key, and cut after the last row of the previous page (the cursor keeps that row's sort
    key, not an offset: a row that did not change is never repeated or skipped). Each page reads the
    range again."""
    cap = config().sort_max_items
    items, examined, complete = read_all(sources, cap=cap)
    if not complete:
        raise BadRequest(f"sort={query.sort} reads every item of the range, at most {cap:,}, and this range holds "
                         "more: narrow from/to (or name one message_id or recipient where the view takes them), "
                         "or sort by date",
                         [FieldError("sort", f"needs a range of at most {cap:,} items; narrow from/to")])
    ranked = sorted(((key(item) + [item.pk, item.sk], item) for item in items if keep(item)),
                    key=lambda pair: pair[0], reverse=query.descending)
    if position:
        after = position["after"]
        ranked = [pair for pair in ranked if (pair[0] < after if query.descending else pair[0] > after)]
    shown = ranked[:query.limit]
    return [item for _, item in shown], {"after": shown[-1][0]} if len(ranked) > len(shown) else None, examined


def matches_text(q: str | None, *values: Any) -> bool:
    if not q:
        return True
    needle = q.casefold()
    return any(needle in str(v).casefold() for v in values if v is not None)


def matches_row(q: str | None, row: Any) -> bool:
    """`q` in any text the row shows (seed 001's "search any field"): what the caller sees, and nothing more
    (a merge field's value only where the row shows values)."""
    return not q or any(q.casefold() in text.casefold() for text in _texts(row))


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for v in value.values() for text in _texts(v)]
    if isinstance(value, list | tuple):
        return [text for v in value for text in _texts(v)]
    return []


def equals(expected: str | None, actual: Any) -> bool:
    return expected is None or (actual is not None and str(actual).casefold() == expected.casefold())
