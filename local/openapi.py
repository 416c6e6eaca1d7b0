"""The one OpenAPI document of the service, merged from every function's powertools resolver
(their routes, parameters and validated bodies), with the answers the shared error mapping
gives (problem+json) in place of powertools' default 422.

`make openapi` writes it into the layer (layers/msglog/msglog/openapi.json), where
HealthFunction serves it at GET /v1/openapi.json; a test fails when it is out of date.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from typing import Any

from local.template import ROOT, functions, routes
from msglog.http import create_app

TARGET = ROOT / "layers/msglog/msglog/openapi.json"
PROBLEM = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA = {
    "type": "object", "title": "Problem", "description": "RFC 9457 problem details",
    "required": ["title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "code": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "required": ["field", "message"],
                                              "properties": {"field": {"type": "string"},
                                                             "message": {"type": "string"}}}},
    },
}
GATEWAY = {"$ref": "#/components/schemas/GatewayError"}
GATEWAY_SCHEMA = {"type": "object", "title": "GatewayError", "description": "an answer of API Gateway itself",
                  "required": ["message"], "properties": {"message": {"type": "string"}}}
GATEWAY_ANSWERS = {"401": "no valid token", "413": "the body is over API Gateway's limit",
                   "414": "the URL is too long", "429": "throttled: retry later"}
WHY = {"400": "bad input: the fields at fault are named", "401": "no valid token (webhooks: not verified)",
       "403": "a right is missing", "404": "not found in the caller's tenant and scope",
       "409": "the Idempotency-Key was used for another request, or a provider_message_id belongs to another "
              "message (the fields are named)", "413": "the body is too large",
       "415": "the body is not application/json",
       "406": "webhooks: a Mailgun request that can never be accepted (Mailgun does not retry a 406; the fields "
              "are named)",
       "503": "the table is busy; retry"}
WEBHOOK_403 = "a Postmark request that can never be accepted (Postmark does not retry a 403; the fields are named)"
RESUMABLE = {"DELETE /v1/people/{person_id}": "stopped within its time budget: repeat the request to carry on"}
EXPORT_STARTED = {"$ref": "#/components/schemas/ExportStarted"}
EXPORT_STARTED_SCHEMA = {
    "type": "object", "title": "ExportStarted", "required": ["export_id", "status", "href"],
    "description": "a CSV report run as an export job: follow href (also the Location header)",
    "properties": {"export_id": {"type": "string"}, "status": {"const": "running"}, "href": {"type": "string"}},
}
EXPORT_STATUS_SCHEMA = {
    "type": "object", "title": "ExportStatus",
    "required": ["export_id", "status", "view", "rows", "bytes", "created_at", "url"],
    "properties": {
        "export_id": {"type": "string"}, "status": {"enum": ["running", "done", "failed"]},
        "view": {"type": "string"}, "rows": {"type": "integer", "description": "rows written so far"},
        "bytes": {"type": "integer"}, "created_at": {"type": "string"},
        "finished_at": {"type": ["string", "null"]}, "expires_at": {"type": ["string", "null"]},
        "url": {"type": ["string", "null"], "description": "done: a presigned GET link to the CSV file"},
        "url_expires_at": {"type": ["string", "null"]}, "filename": {"type": "string"},
        "error": {"type": ["string", "null"]},
    },
}
CREATED = {"POST /v1/messages", "POST /v1/activity", "POST /v1/audit", "POST /v1/panel-log", "POST /v1/logins",
           "POST /v1/transactions"}


def _app(logical_id: str) -> Any:
    function = functions()[logical_id]
    spec = importlib.util.spec_from_file_location(f"functions.{logical_id}.app", function.code_uri / "app.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"{logical_id}: no app.py in {function.code_uri}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app if hasattr(module, "app") else webhook_app()  # the one function without a resolver


def webhook_app() -> Any:
    """The webhook route as a powertools resolver, for this document only: the function answers it without
    one (functions/webhooks/app.py says why)."""
    app = create_app()

    @app.post("/v1/webhooks/<provider>/<tenant_id>")
    def receive(provider: str, tenant_id: str) -> tuple[dict[str, Any], int]:
        raise NotImplementedError  # documentation only: the function's `handler` answers

    return app


def _answers(key: str, authorized: bool, operation: dict[str, Any]) -> dict[str, Any]:
    answers = dict(operation.get("responses", {}))
    answers.pop("422", None)
    success = answers.pop("200", {"description": "OK"})
    answers.update(_success(key, success))
    _add_other_successes(answers, key, success, operation)
    for code in sorted(set(_problem_codes(key, authorized, operation))):
        why = WEBHOOK_403 if code == "403" and key.startswith("POST /v1/webhooks/") else WHY[code]
        answers[code] = {"description": why, "content": {"application/problem+json": {"schema": PROBLEM}}}
    for code, why in GATEWAY_ANSWERS.items():  # API Gateway answers these before any function runs
        if code == "401" and not authorized:
            continue
        known = answers.setdefault(code, {"description": why, "content": {}})
        known["content"] = {**known.get("content", {}), "application/json": {"schema": GATEWAY}}
    return answers


def _success(key: str, success: dict[str, Any]) -> dict[str, Any]:
    """The operation's answer when it went well (`success`: the resolver's 200), by what it does."""
    if key in CREATED:
        return {"201": {**success, "description": "stored"},
                "200": {**success, "description": "a retry of a request already stored"}}
    if key in RESUMABLE:  # a bounded step of a longer job: 200 when done, 202 when a repeat must carry on
        return {"200": {**success, "description": "done"}, "202": {**success, "description": RESUMABLE[key]}}
    if key.split()[0] == "DELETE":
        return {"204": {"description": "done"}}
    return {"200": success}


def _takes(operation: dict[str, Any], parameter: str) -> bool:
    return any(p.get("name") == parameter for p in operation.get("parameters", []))


def _add_other_successes(answers: dict[str, Any], key: str, success: dict[str, Any],
                         operation: dict[str, Any]) -> None:
    """A CSV form, a webhook kept for later, an export job started, an export's status."""
    if _takes(operation, "format"):
        answers["200"] = {**answers["200"], "content": {**answers["200"].get("content", {}),
                                                        "text/csv": {"schema": {"type": "string"}}}}
    if key.startswith("POST /v1/webhooks/"):
        answers["202"] = {**success, "description": "verified and kept; stored when the table answers again"}
    if _takes(operation, "async"):
        answers["202"] = {"description": "format=csv: the report runs as an export job (async=true, or too large to "
                                         "answer); GET the Location for its status and link",
                          "headers": {"Location": {"schema": {"type": "string"}, "description": "/v1/exports/{id}"}},
                          "content": {"application/json": {"schema": EXPORT_STARTED}}}
    if key == "GET /v1/exports/{export_id}":
        answers["200"] = {**answers["200"], "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/ExportStatus"}}}}


def _problem_codes(key: str, authorized: bool, operation: dict[str, Any]) -> list[str]:
    """The problem+json answers the operation can give."""
    if key == "GET /v1/health" or key == "GET /v1/openapi.json":
        return []
    codes = ["400", "404", "503"]
    if authorized:
        codes += ["401", "403"]
    if key.startswith("POST /v1/webhooks/"):
        codes += ["401", "403", "406", "413"]  # 403, 406: Postmark's and Mailgun's "do not retry"
    if key in ("POST /v1/messages", "POST /v1/messages/{id}/recipients"):
        codes.append("409")
    if "requestBody" in operation and not key.startswith("POST /v1/webhooks/"):
        codes.append("415")
    return codes


def document() -> dict[str, Any]:
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Message Log Service", "version": "1.0.0",
                 "description": "Records sent e-mail/SMS/push messages, ingests provider webhooks and serves "
                                "the log views. Lists answer {items, next_cursor}; errors are problem+json."},
        "paths": {},
        "components": {"schemas": {"Problem": PROBLEM_SCHEMA, "GatewayError": GATEWAY_SCHEMA,
                                   "ExportStarted": EXPORT_STARTED_SCHEMA, "ExportStatus": EXPORT_STATUS_SCHEMA},
                       "securitySchemes": {"jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        "security": [{"jwt": []}],
    }
    served = {route.key: route for route in routes()}
    for logical_id in sorted({route.function for route in served.values()}):
        part = json.loads(_app(logical_id).get_openapi_json_schema())
        for name, schema in part.get("components", {}).get("schemas", {}).items():
            if name not in ("HTTPValidationError", "ValidationError"):
                doc["components"]["schemas"][name] = schema
        for path, operations in part["paths"].items():
            for method, operation in operations.items():
                key = f"{method.upper()} {path}"
                route = served[key]  # a handler route the template does not serve would fail here
                operation["responses"] = _answers(key, route.authorized, operation)
                operation["operationId"] = operation.get("operationId", "").split("_v1_")[0] or key
                if not route.authorized:
                    operation["security"] = []
                doc["paths"].setdefault(path, {})[method] = operation
    return doc


def render() -> str:
    return json.dumps(document(), indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render())
    print(f"wrote {TARGET.relative_to(ROOT)} ({len(document()['paths'])} paths)", file=sys.stderr)
