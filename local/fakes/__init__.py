"""Fake provider APIs on 127.0.0.1, for tests and `make run`: one module per provider, each built from
that provider's API reference (the sources are named in msglog.provider_apis.<provider>) — the
request shapes, its authentication, paging, errors, and rate limiting (429 with Retry-After).

A fake holds what "the provider knows" in memory (`add…` methods), records every request it served
(`requests`), and answers failures on demand (`fail`): the service's base URL for it is
`<PROVIDER>_API_URL=<fake.url>`.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""

    def basic(self) -> tuple[str, str] | None:
        scheme, _, encoded = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        user, _, password = base64.b64decode(encoded).decode().partition(":")
        return user, password


@dataclass
class _Failure:
    status: int
    times: int
    after: int
    retry_after: int | None


class FakeApi:
    """A provider API's fake: subclasses answer `route(request)`."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._failures: list[_Failure] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # ---------------------------------------------------------------- the test's controls
    def fail(self, status: int = 429, *, times: int = 1, after: int = 0, retry_after: int | None = 1) -> None:
        """After `after` more requests are answered, answer the next `times` with `status` (429: with Retry-After)."""
        with self._lock:
            self._failures.append(_Failure(status, times, after, retry_after))

    def calls(self, path_part: str = "") -> int:
        return sum(1 for r in self.requests if path_part in r.path)

    # ---------------------------------------------------------------- serving
    def route(self, request: Request) -> Answer:
        raise NotImplementedError

    def _failure(self) -> Answer | None:
        with self._lock:
            for failure in self._failures:
                if failure.after > 0:
                    failure.after -= 1
                    return None
                if failure.times > 0:
                    failure.times -= 1
                    headers = {"Retry-After": str(failure.retry_after)} if failure.status == 429 and \
                        failure.retry_after is not None else {}
                    return Answer(failure.status, {"message": "injected failure"}, headers)
            return None

    def answer(self, request: Request) -> Answer:
        self.requests.append(request)
        return self._failure() or self.route(request)

    def start(self) -> FakeApi:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                self._serve()

            def do_DELETE(self) -> None:  # noqa: N802
                self._serve()

            def do_PUT(self) -> None:  # noqa: N802
                self._serve()

            def do_POST(self) -> None:  # noqa: N802
                self._serve()

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                request = Request(self.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                                  {k.lower(): v for k, v in self.headers.items()}, body)
                try:
                    answer = fake.answer(request)
                except Exception as error:  # noqa: BLE001 - a fake's own bug shows as a 500, as a server's would
                    answer = Answer(500, {"message": repr(error)})
                data = json.dumps(answer.body).encode() if answer.body is not None else b""
                self.send_response(answer.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None, "start() it first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def problem(status: int, body: Any) -> Answer:
    return Answer(status, body)
