"""What a list view was asked for: page size, cursor, time range, search, sort, order and filters;
and which view a report is of (so that an export job can run it again: msglog.reports names them).

Kept apart from the views so that handlers can build one without importing the data layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from msglog.auth import Caller
from msglog.clock import iso


@dataclass(frozen=True, slots=True)
class ListQuery:
    limit: int = 50
    cursor: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    q: str | None = None
    order: str = "desc"
    filters: tuple[tuple[str, str], ...] = ()
    # date: the view's key order; others where the view offers them (msglog.views, msglog.sent_sorts)
    sort: str = "date"

    def bound(self) -> dict[str, Any]:
        """What a cursor is bound to: everything but the cursor itself."""
        return {"limit": self.limit, "from": self.start and iso(self.start), "to": self.end and iso(self.end),
                "q": self.q, "order": self.order, "filters": list(self.filters), "sort": self.sort}

    @property
    def descending(self) -> bool:
        return self.order == "desc"

    def filter(self, name: str) -> str | None:
        return dict(self.filters).get(name)


@dataclass(frozen=True, slots=True)
class View:
    """A list view a route serves and an export job runs again (msglog.reports): its page function
    itself, `(caller, query, **args) -> page`, and the name a job records it by."""

    name: str
    file_name: str  # the CSV file's, before the export id
    page: Callable[..., dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Report:
    """A list view as one caller asked for it: the view, its arguments (the recipient of a recipient
    log), and the caller whose rights and scope it shows."""

    caller: Caller
    view: View
    args: tuple[tuple[str, str], ...] = ()

    def page(self, query: ListQuery) -> dict[str, Any]:
        return self.view.page(self.caller, query, **dict(self.args))
