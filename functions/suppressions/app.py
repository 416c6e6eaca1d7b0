"""The suppression list: GET /v1/suppressions, GET/PUT/DELETE /v1/suppressions/{address}."""

import json
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from msglog import provider_lists, reports, suppressions
from msglog.http import (
    Async,
    Cursor,
    Filter,
    Format,
    Limit,
    Order,
    Search,
    caller,
    create_app,
    entrypoint,
    list_query,
)
from msglog.list_responses import listing
from msglog.listing import Report
from msglog.schemas import SuppressionIn

app = create_app()
Address = Annotated[str, Path(max_length=320, description="an e-mail address or E.164 phone (percent-encoded)")]


@app.get("/v1/suppressions")
def list_suppressions(limit: Limit = 50, cursor: Cursor = None, q: Search = None, order: Order = "asc",
                      reason: Filter = None, person_id: Filter = None, family_id: Filter = None,
                      format_: Format = "json", async_: Async = None) -> Any:
    """`person_id=` / `family_id=`: the addresses of that person's or family's latest deliveries that are
    suppressed (seed 001's "Blacklisted Recipients"), in one page."""
    query = list_query(limit, cursor, None, None, q, order, reason=reason, person_id=person_id, family_id=family_id)
    return listing(format_, Report(caller(app), reports.SUPPRESSIONS), query, async_)


Refresh = Annotated[bool, Query(description="ask the providers whether they hold the address (their own lists); "
                                           "one that does puts it on ours too")]


@app.get("/v1/suppressions/<address>")
def get_suppression(address: Address, refresh: Refresh = False) -> dict[str, Any]:
    if refresh:
        return provider_lists.lookup(caller(app), unquote(address))
    return suppressions.get(caller(app), unquote(address))


@app.put("/v1/suppressions/<address>")
def put_suppression(address: Address, body: Annotated[SuppressionIn, Body()]) -> dict[str, Any]:
    return suppressions.put(caller(app), unquote(address), body.reason, body.note)


@app.delete("/v1/suppressions/<address>")
def reset_suppression(address: Address) -> Response[Any]:
    """204; or, when providers were asked to take it off their lists too, 200 with what each answered."""
    answers = provider_lists.reset(caller(app), unquote(address))
    if not answers:
        return Response(status_code=204)
    return Response(status_code=200, content_type="application/json",
                    body=json.dumps({"address": unquote(address), "reset": True, "providers": answers}))


handler = entrypoint(app)
