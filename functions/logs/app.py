"""The log views: sent messages, sends, recipient log, message detail, provider event log, ingestion log and
its providers' health; and the status of a CSV export job (GET /v1/exports/{id})."""

from typing import Annotated, Any, Literal
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from msglog import reports, views
from msglog.http import (
    Async,
    Cursor,
    Filter,
    Format,
    From,
    Limit,
    Order,
    Search,
    Sort,
    To,
    caller,
    create_app,
    entrypoint,
    list_query,
)
from msglog.list_responses import listing
from msglog.listing import ListQuery, Report

app = create_app()
SentSort = Annotated[
    Literal["date", "created_at", "scheduled_at", "status", "category", "org_unit", "subject", "sender", "schedule_id"],
    Query(
        description="created_at (= date), or any other column: any size of date range, pages of bounded cost "
        "(docs/data-model.md, 4 and 4b)"
    ),
]
EventSort = Annotated[Literal["date", "recipient", "status", "person_id", "subject"], Query(
    description="date: the key order; recipient, status (precedence), person_id, subject: within one message_id, "
                "one recipient, or a from/to holding at most 1,000 events; beyond that a 400 naming sort")]
DetailSort = Annotated[Literal["recipient", "status", "date"], Query(
    description="the recipients: recipient (key order, any number), status (precedence) or date (last activity): "
                "these two for a message of at most 1,000 recipients")]
SendChannel = Annotated[Literal["email", "sms", "push"] | None, Query(
    description="the channel's sends; default: every channel your rights open")]
DetailOrder = Annotated[Literal["asc", "desc"], Query(description="a to z, lowest status, oldest first by default")]


@app.get("/v1/messages")
def sent_log(limit: Limit = 50, cursor: Cursor = None, from_: From = None, to: To = None, q: Search = None,
             order: Order = "desc", sort: SentSort = "date", status: Filter = None, category: Filter = None,
             org_unit: Filter = None, sender: Filter = None, channel: Filter = None, format_: Format = "json",
             async_: Async = None) -> Any:
    query = list_query(limit, cursor, from_, to, q, order, sort=sort, status=status, category=category,
                       org_unit=org_unit, sender=sender, channel=channel)
    return listing(format_, Report(caller(app), reports.SENT), query, async_)


@app.get("/v1/messages/<id>")
def message_detail(id: Annotated[str, Path()], limit: Limit = 50, cursor: Cursor = None,
                   sort: DetailSort = "recipient", order: DetailOrder = "asc") -> dict[str, Any]:
    return views.message_detail(caller(app), id, ListQuery(limit=limit, cursor=cursor, sort=sort, order=order))


@app.get("/v1/recipients/<recipient>/messages")
def recipient_log(recipient: Annotated[str, Path(max_length=320)], limit: Limit = 50, cursor: Cursor = None,
                  from_: From = None, to: To = None, q: Search = None, order: Order = "desc", sort: Sort = "date",
                  channel: Filter = None, status: Filter = None, format_: Format = "json", async_: Async = None) -> Any:
    query = list_query(limit, cursor, from_, to, q, order, sort=sort, channel=channel, status=status)
    # The resolver matches the raw (still percent-encoded) path: "pat%40example.com" is "pat@example.com".
    return listing(format_, Report(caller(app), reports.RECIPIENT, (("recipient", unquote(recipient)),)), query, async_)


@app.get("/v1/sends")
def sends_log(limit: Limit = 50, cursor: Cursor = None, from_: From = None, to: To = None, q: Search = None,
              order: Order = "desc", sort: Sort = "date", channel: SendChannel = None, status: Filter = None,
              format_: Format = "json", async_: Async = None) -> Any:
    """One row per send (delivery), tenant-wide, newest first (seed 004's SMS log): send id, date, message id,
    campaign, address, gateway name, status, error; `channel` (default: every channel the caller's rights open)."""
    query = list_query(limit, cursor, from_, to, q, order, sort=sort, channel=channel, status=status)
    return listing(format_, Report(caller(app), reports.SENDS), query, async_)


@app.get("/v1/events")
def event_log(limit: Limit = 50, cursor: Cursor = None, from_: From = None, to: To = None, q: Search = None,
              order: Order = "desc", sort: EventSort = "date", event: Filter = None, provider: Filter = None,
              channel: Filter = None, recipient: Filter = None, message_id: Filter = None,
              format_: Format = "json", async_: Async = None) -> Any:
    query = list_query(limit, cursor, from_, to, q, order, sort=sort, event=event, provider=provider, channel=channel,
                       recipient=recipient, message_id=message_id)
    return listing(format_, Report(caller(app), reports.EVENTS), query, async_)


@app.get("/v1/ingestion-log")
def ingestion_log(limit: Limit = 50, cursor: Cursor = None, from_: From = None, to: To = None, q: Search = None,
                  order: Order = "desc", sort: Sort = "date", provider: Filter = None,
                  outcome: Filter = None, format_: Format = "json", async_: Async = None) -> Any:
    query = list_query(limit, cursor, from_, to, q, order, sort=sort, provider=provider, outcome=outcome)
    return listing(format_, Report(caller(app), reports.INGESTION), query, async_)


@app.get("/v1/ingestion-health")
def ingestion_health() -> dict[str, Any]:
    """Each configured provider's webhooks as the scheduled check judges them now: logging, silent (the next
    check alerts), alerted (an open incident) or learning (too little history to judge)."""
    from msglog import ingestion_health  # this route alone needs the check's module

    return ingestion_health.states(caller(app))


@app.get("/v1/exports/<export_id>")
def export_status(export_id: Annotated[str, Path(max_length=64)]) -> dict[str, Any]:
    """A CSV export job of the caller's: status, rows so far, and when done a link (5 minutes) to the file."""
    from msglog import exports

    return exports.status(caller(app), export_id)


handler = entrypoint(app)
