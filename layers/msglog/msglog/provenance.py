"""Who wrote a record of the tenant's own logs, and what a client may not write there.

The service audits its own changes (msglog.audit) in the same log clients post to (POST
/v1/audit, right events:write), so that a reader can tell the two apart: every record says who
wrote it (`source`: SERVICE, or `caller:<sub>` for the token that posted it); a client's action may
not read as one of the service's (`provider.…`, `tenant.…`: SERVICE_NAMESPACES); and a client's
audit entry is dated within CLIENT_PAST .. CLIENT_AHEAD of now, so it cannot be slipped in among
the service's entries of last month.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta

from msglog.clock import now
from msglog.errors import FieldError

SERVICE = "service"
# The first word of every action the service audits (audit.record): a unit test holds every call to it.
SERVICE_NAMESPACES = frozenset({"enterprise", "message", "person", "provider", "retention", "suppression", "tenant"})
CLIENT_PAST = timedelta(hours=24)  # a client's queued entries still go in after a day's outage
CLIENT_AHEAD = timedelta(minutes=5)  # clock skew


def posted_by(sub: str) -> str:
    return f"caller:{sub}"


def is_service_action(action: str) -> bool:
    """Whether `action` reads as one of the service's own: its first word, in any case, width or
    separator (`Provider:credentials_changed`), is one of SERVICE_NAMESPACES."""
    first = re.match(r"[^0-9a-z]*([0-9a-z]*)", unicodedata.normalize("NFKC", action).casefold())
    return first is not None and first.group(1) in SERVICE_NAMESPACES


def client_entry_errors(action: str, at: datetime | None, *, kind: str) -> list[FieldError]:
    """What is wrong with a client's activity or audit entry (`kind`) that the service's own could not be."""
    errors = []
    if is_service_action(action):
        namespaces = ", ".join(f"{name}.…" for name in sorted(SERVICE_NAMESPACES))
        errors.append(FieldError("action", f"reads as one of this service's own actions ({namespaces}); "
                                           "use a name of your own"))
    current = now()
    if kind == "audit" and at is not None and not current - CLIENT_PAST <= at <= current + CLIENT_AHEAD:
        errors.append(FieldError("at", "an audit entry's time must be within the last 24 hours, and at most 5 minutes "
                                       "ahead"))
    return errors
