"""moto in server mode, with each DynamoDB request atomic, as DynamoDB's are.

moto's backend takes no lock: a conditional write checks its condition and then writes, and a
transaction checks, writes, and on a refused condition puts back a copy of the whole table taken
before it began, so two requests at once can both pass a condition DynamoDB would let only one
pass, and a cancelled transaction can undo another request's write. DynamoDB makes each request
(a transaction included) atomic; here one DynamoDB request at a time reaches the backend. The
functions still run at once and interleave between their requests: the races that DynamoDB would
show (a read, then a write based on it) show here too.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server


class AtomicDynamoDB:
    """WSGI middleware: DynamoDB's JSON API calls (X-Amz-Target: DynamoDB_…) one at a time."""

    def __init__(self, app: Any):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return self.app(environ, start_response)
        with self.lock:  # the whole answer is built under the lock: moto's responses are small bodies
            return list(self.app(environ, start_response))


class AtomicMotoServer(ThreadedMotoServer):
    def _server_entry(self) -> None:
        self._server = make_server(self._ip_address, self._port,
                                   AtomicDynamoDB(DomainDispatcherApplication(create_backend_app)), True,
                                   request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()
