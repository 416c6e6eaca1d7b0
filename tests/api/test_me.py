"""GET /v1/me: who the caller is and which views their rights open; PATCH /v1/tenant `name`;
an unknown query parameter is a 400 naming it."""

from __future__ import annotations

import pytest

from msglog.auth import RIGHTS
from tests.support import token

# One GET route per view GET /v1/me can list: the front end draws a view only when it opens.
VIEW_ROUTES = {
    "sent": "/v1/messages", "recipient": "/v1/recipients/person:p-1/messages", "events": "/v1/events",
    "sends": "/v1/sends",
    "suppressions": "/v1/suppressions", "stats": "/v1/stats", "transactions": "/v1/transactions",
    "activity": "/v1/activity", "audit": "/v1/audit", "panel-log": "/v1/panel-log", "logins": "/v1/logins",
    "api-log": "/v1/api-log", "ingestion-log": "/v1/ingestion-log", "people": "/v1/people",
}


def test_me_says_who_the_caller_is_and_the_tenant_s_time_zone(api):
    api.call("PATCH", "/v1/tenant", {"time_zone": "America/Chicago", "name": "Acme School District"})
    reply = api.get("/v1/me", auth=token(rights=["logs:sent"], org_units=("east", "west"), sub="u-7", name="Lee"))
    assert reply.status == 200
    assert reply.json == {"tenant_id": "acme", "tenant_name": "Acme School District", "time_zone": "America/Chicago",
                          "sub": "u-7", "name": "Lee", "rights": ["logs:sent"], "org_units": ["east", "west"],
                          "views": ["sent", "sends"]}


def test_a_tenant_without_a_name_shows_its_id(api):
    reply = api.get("/v1/me", auth=token(tenant="fresh", rights=["stats:read"]))
    assert (reply.json["tenant_name"], reply.json["time_zone"], reply.json["views"]) == (
        "fresh", "UTC", ["stats", "transactions"])


@pytest.mark.parametrize("rights", [[r] for r in sorted(RIGHTS)] + [[], ["logs:recipient", "people:all"]])
def test_me_lists_exactly_the_views_that_open(api, rights):
    auth = token(rights=rights)
    listed = set(api.get("/v1/me", auth=auth).json["views"])
    opens = {view for view, path in VIEW_ROUTES.items() if api.get(path, auth=auth).status != 403}
    assert listed == opens


def test_the_tenant_name_is_a_setting(api):
    assert api.call("PATCH", "/v1/tenant", {"name": "Northside ISD"}).status == 200
    assert api.get("/v1/tenant").json["name"] == "Northside ISD"
    assert "name" in api.call("PATCH", "/v1/tenant", {"name": ""}).fields
    assert "name" in api.call("PATCH", "/v1/tenant", {"name": "x" * 121}).fields
    audit = api.get("/v1/audit?entity=tenant").json["items"]
    assert audit[0]["details"] == {"name": "Northside ISD"}


@pytest.mark.parametrize(("path", "unknown"), [
    ("/v1/messages?customer=east", "customer"), ("/v1/events?evnt=bounced", "evnt"),
    ("/v1/recipients/person:p-1/messages?chanel=sms", "chanel"), ("/v1/audit?limit=5&actr=u-1", "actr"),
    ("/v1/me?x=1", "x")])
def test_an_unknown_query_parameter_is_named(api, path, unknown):
    reply = api.get(path)
    assert reply.status == 400
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.fields == [unknown]


def test_known_parameters_still_answer(api):
    assert api.get("/v1/messages?limit=5&from=2026-01-01T00:00:00Z&format=json&async=false").status == 200
