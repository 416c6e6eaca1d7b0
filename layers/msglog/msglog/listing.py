"""What a list view was asked for: page size, cursor, time range, search, order and filters.

Kept apart from the views so that handlers can build one without importing the data layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

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

    def bound(self) -> dict[str, Any]:
        """What a cursor is bound to: everything but the cursor itself."""
        return {"limit": self.limit, "from": self.start and iso(self.start), "to": self.end and iso(self.end),
                "q": self.q, "order": self.order, "filters": list(self.filters)}

    @property
    def descending(self) -> bool:
        return self.order == "desc"

    def filter(self, name: str) -> str | None:
        return dict(self.filters).get(name)
