"""A local HTTP API: routes read from template.yaml, each request turned into the payload 2.0
event its function receives, answered as API Gateway would (including its own 401/404/413
answers and CORS from the template's CorsConfiguration)."""

from __future__ import annotations

import json
import logging
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local import apigw, console
from local.environments import Environments, Stopping, Throttled
from local.runtime import Runtime
from local.template import http_api, parameters, resolve, routes

MAX_BODY_BYTES = 10 * 1024 * 1024  # HTTP API's payload limit
log = logging.getLogger("local.gateway")


SWAGGER_UI = b"""<!doctype html><html><head><meta charset="utf-8"><title>Message Log Service API</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head><body><div id="ui"></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/v1/openapi.json", dom_id: "#ui", persistAuthorization: true});</script>
</body></html>"""


def _gateway_error(status: int, message: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"content-type": "application/json"}, json.dumps({"message": message}).encode()


class Gateway:
    def __init__(self, runtime: Runtime | Environments, parameter_overrides: dict[str, str] | None = None):
        self.runtime = runtime
        self.matchers = [apigw.Matcher.of(route) for route in routes()]
        params = parameters(overrides=parameter_overrides)
        self.cors = resolve(http_api().get("CorsConfiguration") or {}, {}, params)

    def _cors_headers(self, origin: str | None) -> dict[str, str]:
        if not self.cors or not origin:
            return {}
        allowed = self.cors.get("AllowOrigins") or []
        if "*" not in allowed and origin not in allowed:
            return {}
        headers = {"access-control-allow-origin": "*" if "*" in allowed else origin}
        if expose := self.cors.get("ExposeHeaders"):
            headers["access-control-expose-headers"] = ",".join(expose)
        return headers

    def _preflight(self, origin: str) -> tuple[int, dict[str, str], bytes]:
        headers = self._cors_headers(origin)
        if headers:
            headers.update({
                "access-control-allow-methods": ",".join(self.cors.get("AllowMethods") or ["*"]),
                "access-control-allow-headers": ",".join(self.cors.get("AllowHeaders") or ["*"]).lower(),
                "access-control-max-age": str(self.cors.get("MaxAge", 0)),
            })
        return 204, headers, b""

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes,
               source_ip: str = "127.0.0.1") -> tuple[int, dict[str, str], bytes]:
        path, _, query = target.partition("?")
        lower = {k.lower(): v for k, v in headers.items()}
        origin = lower.get("origin")
        if method == "OPTIONS" and self.cors and origin and "access-control-request-method" in lower:
            return self._preflight(origin)
        status, out_headers, out_body = self._route(method, path, query, lower, body, source_ip)
        out_headers.update(self._cors_headers(origin))
        return status, out_headers, out_body

    def _route(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes,
               source_ip: str) -> tuple[int, dict[str, str], bytes]:
        if console.is_console(path):  # the web console's files, beside the API on the same origin
            return console.serve(method, path)
        found = apigw.match(self.matchers, method, path)
        if found is None:
            if (method, path) == ("GET", "/docs"):  # local only: Swagger UI over /v1/openapi.json
                return 200, {"content-type": "text/html; charset=utf-8"}, SWAGGER_UI
            return _gateway_error(404, "Not Found")
        route, path_parameters = found
        if len(body) > MAX_BODY_BYTES:
            return _gateway_error(413, "Request Entity Too Large")
        claims = None
        if route.authorized:
            claims = apigw.authorizer_claims(headers.get("authorization"))
            if claims is None:
                return _gateway_error(401, "Unauthorized")
        event = apigw.build_event(route, method=method, path=path, query=query, headers=headers, body=body,
                                  path_parameters=path_parameters, claims=claims, source_ip=source_ip)
        try:
            result = self.runtime.invoke(route.function, event)
        except Stopping:  # Ctrl-C: the functions' environments are going; not the function's failure
            return _gateway_error(503, "Service Unavailable")
        except Throttled:  # Lambda refused the invocation (the function is at its concurrency)
            log.warning("function %s throttled", route.function)
            return _gateway_error(429, "Too Many Requests")
        except Exception:  # a function crash is API Gateway's 500, as in AWS
            log.error("function %s failed:\n%s", route.function, traceback.format_exc())
            return _gateway_error(500, "Internal Server Error")
        return apigw.to_http(result)


def serve(gateway: Gateway, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, data = gateway.handle(self.command, self.path, dict(self.headers.items()), body,
                                                   self.client_address[0])
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _any

        def __getattr__(self, name: str) -> Any:
            """Any other method (QUERY, PROPFIND…) reaches the gateway, which has no route for it: 404."""
            if name.startswith("do_"):
                return self._any
            raise AttributeError(name)

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """What http.server refuses itself (a too-long URL: 414) answered as API Gateway does."""
            data = json.dumps({"message": message or HTTPStatus(code).phrase}).encode()
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("connection", "close")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt: str, *args: Any) -> None:
            log.info("%s %s", self.address_string(), fmt % args)

    server = _Server((host, port), Handler)
    server.daemon_threads = True
    return server


class _Server(ThreadingHTTPServer):
    # Many clients at once is the normal case (tests/stack/test_concurrency.py): with the default
    # backlog of 5, a loaded machine resets connections before a thread accepts them.
    request_queue_size = 128
