"""The tenant's own logs: activity, audit, panel, user logins (POST and GET) and the API request log (GET)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from msglog import reports, tenant_logs
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
from msglog.listing import Report
from msglog.schemas import ActivityIn, LoginIn, PanelIn

app = create_app()
CallerFilter = Annotated[str | None, Query(alias="caller", max_length=320, description="the sub of the caller")]


def _stored(record_id: str, new: bool) -> tuple[dict[str, Any], int]:
    return {"id": record_id}, 201 if new else 200  # 200: a retry of a record already stored


@app.post("/v1/activity")
def post_activity(body: Annotated[ActivityIn, Body()]) -> tuple[dict[str, Any], int]:
    return _stored(*tenant_logs.post_activity(caller(app), "activity", body))


@app.post("/v1/audit")
def post_audit(body: Annotated[ActivityIn, Body()]) -> tuple[dict[str, Any], int]:
    return _stored(*tenant_logs.post_activity(caller(app), "audit", body))


@app.post("/v1/panel-log")
def post_panel(body: Annotated[PanelIn, Body()]) -> tuple[dict[str, Any], int]:
    return _stored(*tenant_logs.post_panel(caller(app), body))


@app.post("/v1/logins")
def post_login(body: Annotated[LoginIn, Body()]) -> tuple[dict[str, Any], int]:
    return _stored(*tenant_logs.post_login(caller(app), body))


@app.get("/v1/activity")
def activity_log(limit: Limit = 50, cursor: Cursor = None, from_: From = None, to: To = None, q: Search = None,
                 order: Order = "desc", sort: Sort = "date", entity: Filter = None, actor: Filter = None,
                 action: Filter = None, ip: Filter = None, format_: Format = "json",
                 async_: Async = None) -> Any:
    query = list_query(limit, cursor, from_, to, q, order, sort=sort, entity=entity, actor=actor, action=action, ip=ip)
    return listing(format_, Report(caller(app), reports.ACTIVITY), query, async_)


@app.get("/v1/audit")
def audit_log(limit: Limit = 50, cursor: Cursor = None, from_: From = None, to: To = None, q: Search = None,
              order: Order = "desc", sort: Sort = "date", entity: Filter = None, actor: Filter = None,
              action: Filter = None, ip: Filter = None, format_: Format = "json",
              async_: Async = None) -> Any:
    query = list_query(limit, cursor, from_, to, q, order, sort=sort, entity=entity, actor=actor, action=action, ip=ip)
    return listing(format_, Report(caller(app), reports.AUDIT), query, async_)


@app.get("/v1/panel-log")
def panel_log(limit: Limit = 50, cursor: Cursor = None, from_: From = None, to: To = None, q: Search = None,
              order: Order = "desc", sort: Sort = "date", user: Filter = None, actor: Filter = None,
              method: Filter = None, status: Filter = None, ip: Filter = None, format_: Format = "json",
              async_: Async = None) -> Any:
    query = list_query(limit, cursor, from_, to, q, order, sort=sort, user=user, actor=actor, method=method,
                       status=status, ip=ip)
    return listing(format_, Report(caller(app), reports.PANEL), query, async_)


@app.get("/v1/logins")
def login_log(limit: Limit = 50, cursor: Cursor = None, from_: From = None, to: To = None, q: Search = None,
              order: Order = "desc", sort: Sort = "date", user: Filter = None, actor: Filter = None,
              status: Filter = None, ip: Filter = None, format_: Format = "json",
              async_: Async = None) -> Any:
    query = list_query(limit, cursor, from_, to, q, order, sort=sort, user=user, actor=actor, status=status, ip=ip)
    return listing(format_, Report(caller(app), reports.LOGINS), query, async_)


@app.get("/v1/api-log")
def api_log(limit: Limit = 50, cursor: Cursor = None, from_: From = None, to: To = None, q: Search = None,
            order: Order = "desc", sort: Sort = "date", caller_: CallerFilter = None,
            method: Filter = None, status: Filter = None, ip: Filter = None, format_: Format = "json",
            async_: Async = None) -> Any:
    query = list_query(limit, cursor, from_, to, q, order, sort=sort, caller=caller_, method=method, status=status,
                       ip=ip)
    return listing(format_, Report(caller(app), reports.API), query, async_)


handler = entrypoint(app)
