"""Every list view a route serves and an export job runs again, by name: one registry, each entry the
view's page function itself. A route builds `Report(caller, reports.SENT)`; the answer (a page, CSV
inline, or an export job: msglog.list_responses) calls the view directly; a job records the name and
finds the same entry here."""

from __future__ import annotations

from functools import partial
from typing import Any

from msglog import stats, tenant_logs, views
from msglog.auth import Caller
from msglog.listing import ListQuery, View


def _recipient_log(caller: Caller, query: ListQuery, *, recipient: str) -> dict[str, Any]:
    return views.recipient_log(caller, recipient, query)


def _tenant_log(name: str, caller: Caller, query: ListQuery) -> dict[str, Any]:
    # An enterprise's transactions may be a linked customer's, or all of theirs: checked at every page.
    tenants = stats.readable_tenants(caller, query.filter("customer")) if name == "transactions" else None
    return tenant_logs.view(caller, name, query, tenants=tenants)


def _of_tenant_log(name: str, file_name: str) -> View:
    return View(name, file_name, partial(_tenant_log, name))


SENT = View("sent", "sent-messages", views.sent_log)
SENDS = View("sends", "sends-log", views.sends_log)
RECIPIENT = View("recipient", "recipient-log", _recipient_log)
EVENTS = View("events", "provider-events", views.event_log)
INGESTION = View("ingestion", "ingestion-log", views.ingestion_log)
SUPPRESSIONS = View("suppressions", "suppressions", views.suppression_list)
ACTIVITY = _of_tenant_log("activity", "activity-log")
AUDIT = _of_tenant_log("audit", "audit-log")
PANEL = _of_tenant_log("panel", "panel-log")
LOGINS = _of_tenant_log("logins", "login-log")
API = _of_tenant_log("api", "api-log")
TRANSACTIONS = _of_tenant_log("transactions", "transactions")

BY_NAME = {view.name: view for view in (SENT, SENDS, RECIPIENT, EVENTS, INGESTION, SUPPRESSIONS, ACTIVITY, AUDIT,
                                        PANEL, LOGINS, API, TRANSACTIONS)}
