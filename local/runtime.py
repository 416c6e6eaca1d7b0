"""Runs template.yaml's functions in this process, the way Lambda would: each handler module
loaded once from its CodeUri (warm afterwards), its environment from the template, a Lambda
context object, the shared layer on the path.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
import uuid
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TextIO

from local.template import ACCOUNT_ID, REGION, ROOT, Function, functions

LAYER = ROOT / "layers" / "msglog"
if str(LAYER) not in sys.path:
    sys.path.insert(0, str(LAYER))


@contextmanager
def environment(values: dict[str, str]):
    """`values` set in os.environ for the block; what was there before is put back after."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Runtime:
    """Loads and invokes functions. One invocation at a time: each sees its own environment.

    What a function prints (its structured logs, its EMF metrics) goes to `output`, as Lambda
    sends it to CloudWatch Logs.
    """

    def __init__(self, environments: dict[str, dict[str, str]], extra_env: dict[str, str] | None = None,
                 output: TextIO | None = None, only: dict[str, Function] | None = None):
        self._functions = only or functions()
        self._environments = environments
        self._extra = extra_env or {}
        self._output = output or sys.stderr
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.RLock()

    @property
    def names(self) -> list[str]:
        return list(self._functions)

    @contextmanager
    def _environment(self, function: Function):
        values = {**self._environments.get(function.logical_id, {}), **self._extra,
                  "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
                  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory)}
        with environment(values):
            yield

    def module(self, logical_id: str) -> ModuleType:
        """The function's handler module, loaded from its CodeUri on first use (a cold start)."""
        function = self._functions[logical_id]
        if logical_id not in self._modules:
            module_name = function.handler.rpartition(".")[0]
            path = function.code_uri / f"{module_name.replace('.', '/')}.py"
            spec = importlib.util.spec_from_file_location(f"functions.{logical_id}.{module_name}", path)
            if spec is None or spec.loader is None:
                raise ImportError(f"{logical_id}: no Python module at {path}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._modules[logical_id] = module
        return self._modules[logical_id]

    def _handler(self, function: Function) -> Any:
        return getattr(self.module(function.logical_id), function.handler.rpartition(".")[2])

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        function = self._functions[logical_id]
        with self._lock, self._environment(function), redirect_stdout(self._output):
            context = LambdaContext(function.logical_id, function.memory, function.timeout, str(uuid.uuid4()))
            return self._handler(function)(event, context)
