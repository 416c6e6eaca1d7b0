"""The structured logger, metrics and tracing every function shares (powertools)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics

H = TypeVar("H", bound=Callable[..., Any])


class _Tracing:
    """powertools' Tracer, built only where X-Ray tracing is on (in Lambda, unless
    POWERTOOLS_TRACE_DISABLED). Building it imports the X-Ray SDK, whose recorder creates two
    X-Ray clients at import: about 250 ms of cold start that a run without tracing need not pay."""

    def capture_lambda_handler(self, capture_response: bool = False) -> Callable[[H], H]:
        def decorate(handler: H) -> H:
            if not tracing_on():
                return handler
            from aws_lambda_powertools import Tracer

            # powertools types the wrapper loosely; it keeps the handler's signature
            return cast(H, Tracer().capture_lambda_handler(handler, capture_response=capture_response))

        return decorate


def tracing_on() -> bool:
    """powertools' own rule: off when POWERTOOLS_TRACE_DISABLED is true, outside Lambda, or under SAM local."""
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("1", "true", "yes", "on")
    return not disabled and bool(os.environ.get("LAMBDA_TASK_ROOT")) and not os.environ.get("AWS_SAM_LOCAL")


logger = Logger()
metrics = Metrics()
tracer = _Tracing()
