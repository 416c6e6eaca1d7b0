"""Counts the DynamoDB requests this process makes, by botocore's own events — never by asking moto
(and its SQS SendMessageBatch requests: what status changes cost the queue).

Every botocore client created after `install()` (pynamodb's, boto3's) gets three hooks:
`before-parameter-build` keeps the call's parameters, `before-send` counts each HTTP request
(retries included: DynamoDB sees each one), `after-call` keeps the parsed answer. Only what
happens inside `meter.window()` is kept, so set-up and the harness's own reads are left out.

Latency mode (`meter.latency(seconds)`): each DynamoDB request waits that long in `before-send`, in the
thread that makes it (requests in flight at once wait at once), before moto answers it — the round trip
DynamoDB takes, which moto, on this machine, does not (bench/ingest.py: DYNAMODB_LATENCY, its source).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Call:
    operation: str
    params: dict[str, Any]
    response: dict[str, Any] | None = None
    error: str | None = None


@dataclass(slots=True)
class Window:
    calls: list[Call] = field(default_factory=list)
    requests: int = 0  # HTTP requests sent (a retried call counts each attempt)
    queue_sends: int = 0  # SQS SendMessageBatch requests (status changes: msglog.status_writer)


class Meter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window: Window | None = None
        self._installed = False
        self._latency = 0.0  # seconds each DynamoDB request waits before it is sent (latency mode)

    def install(self) -> None:
        """Hook every DynamoDB client created from now on, in any botocore session."""
        if self._installed:
            return
        import botocore.session

        original = botocore.session.Session.create_client
        meter = self

        def create_client(session: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
            client = original(session, service_name, *args, **kwargs)
            if service_name == "dynamodb":
                meter._attach(client)
            elif service_name == "sqs":
                client.meta.events.register("before-send.sqs.SendMessageBatch", meter._queue_send)
            return client

        botocore.session.Session.create_client = create_client
        self._installed = True

    def _attach(self, client: Any) -> None:
        events = client.meta.events
        # boto3's resource API turns Python values into DynamoDB's wire format before the request
        # and back after it: look after the first, before the second, to see the wire format.
        events.register_last("before-parameter-build.dynamodb", self._before_parameters)
        events.register("before-send.dynamodb", self._before_send)
        events.register_first("after-call.dynamodb", self._after_call)

    def _before_parameters(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        window = self._window
        if window is None:
            return
        call = Call(model.name, params)
        context["bench_call"] = call
        with self._lock:
            window.calls.append(call)

    def _before_send(self, **_: Any) -> None:
        window = self._window
        if window is not None:
            with self._lock:
                window.requests += 1
        if self._latency:
            time.sleep(self._latency)

    def _queue_send(self, **_: Any) -> None:
        window = self._window
        if window is not None:
            with self._lock:
                window.queue_sends += 1

    def _after_call(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        call = context.get("bench_call")
        if call is not None:
            call.response = _snapshot(parsed)
            call.error = (parsed.get("Error") or {}).get("Code")

    @contextmanager
    def latency(self, seconds: float) -> Iterator[None]:
        """Every DynamoDB request inside the block (any thread, any client) waits `seconds` before it is sent."""
        self._latency = seconds
        try:
            yield
        finally:
            self._latency = 0.0

    @contextmanager
    def window(self) -> Iterator[Window]:
        """Keep the DynamoDB calls made inside the block (from any thread)."""
        window = Window()
        self._window = window
        try:
            yield window
        finally:
            self._window = None


def _snapshot(parsed: dict[str, Any]) -> dict[str, Any]:
    """The answer's items as they came (boto3's resource API rewrites them in place afterwards)."""
    out = dict(parsed)
    for name in ("Item", "Attributes"):
        if name in out:
            out[name] = dict(out[name])
    if "Items" in out:
        out["Items"] = [dict(item) for item in out["Items"]]
    if "Responses" in out and isinstance(out["Responses"], dict):
        out["Responses"] = {table: [dict(item) for item in items] for table, items in out["Responses"].items()}
    return out


METER = Meter()
