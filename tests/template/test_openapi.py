"""One OpenAPI document for every route, generated from the handlers and served at /v1/openapi.json."""

from __future__ import annotations

import json
import re

from local.openapi import TARGET, render
from local.template import routes


def test_the_served_document_is_the_one_the_handlers_generate():
    assert TARGET.read_text() == render(), "out of date: run `make openapi`"


def test_it_describes_every_route_of_the_template_and_no_other():
    doc = json.loads(TARGET.read_text())
    described = {f"{method.upper()} {path}" for path, ops in doc["paths"].items() for method in ops}
    assert described == {route.key for route in routes()}


def test_answers_are_the_ones_clients_get():
    doc = json.loads(TARGET.read_text())
    public = {route.key for route in routes() if not route.authorized}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            key = f"{method.upper()} {path}"
            assert "422" not in op["responses"], key  # validation errors are 400 problem+json here
            if key in public:
                assert op["security"] == [], key
            else:
                assert {"401", "403"} <= set(op["responses"]), key
            if re.search(r"\{|parameters", json.dumps(op)) and key not in public:
                assert op["responses"]["400"]["content"]["application/problem+json"], key


def test_it_is_served_without_a_token(api):
    reply = api.get("/v1/openapi.json", auth=None)
    assert reply.status == 200 and reply.json["paths"]["/v1/messages"]["get"]["parameters"]
    assert reply.json == json.loads(TARGET.read_text())
    assert b"swagger-ui" in api.gateway.handle("GET", "/docs", {}, b"")[2]  # local Swagger UI
