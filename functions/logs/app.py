"""The log views: sent messages, recipient log, message detail, provider event log, ingestion log."""

from functools import partial
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Path

from msglog import views
from msglog.http import (
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
    listing,
)
from msglog.listing import ListQuery

app = create_app()


@app.get("/v1/messages")
def sent_log(limit: Limit = 50, cursor: Cursor = None, from_: From = None, to: To = None, q: Search = None,
             order: Order = "desc", sort: Sort = "date", status: Filter = None, category: Filter = None,
             org_unit: Filter = None, sender: Filter = None, channel: Filter = None, format_: Format = "json") -> Any:
    query = list_query(limit, cursor, from_, to, q, order, status=status, category=category, org_unit=org_unit,
                       sender=sender, channel=channel)
    return listing(format_, partial(views.sent_log, caller(app)), query)


@app.get("/v1/messages/<id>")
def message_detail(id: Annotated[str, Path()], limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:  # noqa: A002
    return views.message_detail(caller(app), id, ListQuery(limit=limit, cursor=cursor))


@app.get("/v1/recipients/<recipient>/messages")
def recipient_log(recipient: Annotated[str, Path(max_length=320)], limit: Limit = 50, cursor: Cursor = None,
                  from_: From = None, to: To = None, q: Search = None, order: Order = "desc", sort: Sort = "date",
                  channel: Filter = None, status: Filter = None, format_: Format = "json") -> Any:
    query = list_query(limit, cursor, from_, to, q, order, channel=channel, status=status)
    # The resolver matches the raw (still percent-encoded) path: "pat%40example.com" is "pat@example.com".
    return listing(format_, partial(views.recipient_log, caller(app), unquote(recipient)), query)


@app.get("/v1/events")
def event_log(limit: Limit = 50, cursor: Cursor = None, from_: From = None, to: To = None, q: Search = None,
              order: Order = "desc", sort: Sort = "date", event: Filter = None, provider: Filter = None,
              channel: Filter = None, recipient: Filter = None, message_id: Filter = None,
              format_: Format = "json") -> Any:
    query = list_query(limit, cursor, from_, to, q, order, event=event, provider=provider, channel=channel,
                       recipient=recipient, message_id=message_id)
    return listing(format_, partial(views.event_log, caller(app)), query)


@app.get("/v1/ingestion-log")
def ingestion_log(limit: Limit = 50, cursor: Cursor = None, from_: From = None, to: To = None, q: Search = None,
                  order: Order = "desc", sort: Sort = "date", provider: Filter = None,
                  outcome: Filter = None, format_: Format = "json") -> Any:
    query = list_query(limit, cursor, from_, to, q, order, provider=provider, outcome=outcome)
    return listing(format_, partial(views.ingestion_log, caller(app)), query)


handler = entrypoint(app)
