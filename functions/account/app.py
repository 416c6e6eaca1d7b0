"""Account logs (seed 002): statistics per day, campaign or customer, and account transactions."""

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from msglog import reports, stats, tenant_logs
from msglog.csvrows import flat
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
from msglog.list_responses import csv_response, listing
from msglog.listing import Report
from msglog.schemas import Channel, TransactionIn

app = create_app()
Group = Annotated[Literal["day", "campaign", "customer"], Query(
    description="day: per day and channel; campaign: per campaign (or subject) with the preview fields; "
                "customer: an enterprise's linked customers")]
Customer = Annotated[
    str | None, Query(max_length=64, description="one linked customer tenant (enterprises), or * for all")
]


@app.get("/v1/stats")
def account_stats(from_: From = None, to: To = None, group: Group = "day",
                  channel: Annotated[Channel | None, Query()] = None, campaign: Filter = None, q: Search = None,
                  customer: Customer = None, format_: Format = "json") -> Any:
    result = stats.view(caller(app), start=from_, end=to, group=group, channel=channel, campaign=campaign, q=q,
                        customer=customer)
    return csv_response([flat(item) for item in result["items"]]) if format_ == "csv" else result


@app.get("/v1/transactions")
def transactions(limit: Limit = 50, cursor: Cursor = None, from_: From = None, to: To = None, q: Search = None,
                 order: Order = "desc", sort: Sort = "date", type: Filter = None,  # noqa: A002
                 customer: Customer = None, format_: Format = "json", async_: Async = None) -> Any:
    who = caller(app)
    who.require("stats:read")
    query = list_query(limit, cursor, from_, to, q, order, sort=sort, type=type, customer=customer)
    return listing(format_, Report(who, reports.TRANSACTIONS), query, async_)  # a linked customer's: msglog.reports


@app.post("/v1/transactions")
def post_transaction(body: Annotated[TransactionIn, Body()]) -> tuple[dict[str, Any], int]:
    record_id, new = tenant_logs.post_transaction(caller(app), body)
    return {"id": record_id}, 201 if new else 200


handler = entrypoint(app)
