"""Fixtures: template.yaml's resources in moto (in-process), and the functions behind the local
gateway — the same routes, events and JWT claims as `make run`, without a server."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "layers" / "msglog"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from local.provision import physical_name  # noqa: E402
from local.template import REGION  # noqa: E402

# Before anything imports msglog: fake credentials (never a real account), the local names.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "TABLE_NAME": physical_name("Table"),
    "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "message-log",
    "POWERTOOLS_METRICS_NAMESPACE": "MessageLog",
})
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import boto3  # noqa: E402
import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402
from xdist.scheduler import LoadScopeScheduling  # noqa: E402

from local.motoserver import lean_dynamodb  # noqa: E402
from tests.support import Api, reset_function_state  # noqa: E402

lean_dynamodb()  # as make run's moto: DynamoDB's costs do not grow with the table

# What the functions print (structured logs, EMF metrics), as CloudWatch Logs would receive it.
# Powertools binds its log handler to the stdout of the moment the layer is first imported, so
# the layer is imported here, once, with stdout pointing at this buffer.
FUNCTION_OUTPUT = io.StringIO()
with contextlib.redirect_stdout(FUNCTION_OUTPUT):
    import msglog.http  # noqa: E402, F401


@pytest.fixture
def aws():
    """template.yaml's table, KMS key and cursor secret, fresh in moto for each test."""
    from local import provision
    from local.runtime import environment
    from local.stack import environments

    with mock_aws():
        reset_function_state()
        refs = provision.create(boto3.Session())
        envs = environments(refs, {})
        try:
            with environment(envs["WebhooksFunction"]):  # the Globals every function shares
                yield envs
        finally:
            reset_function_state()


@pytest.fixture
def api_with(aws):
    """The HTTP API in-process: template routes, API Gateway's events and claims, the real handlers.

    Keyword arguments set function environment variables (as a shell does for `make invoke`).
    """
    from local.runtime import Runtime
    from local.server import Gateway

    def make(**env: str) -> Api:
        FUNCTION_OUTPUT.seek(0)
        FUNCTION_OUTPUT.truncate()
        extra = {"POWERTOOLS_TRACE_DISABLED": "true", "PUBLIC_BASE_URL": "https://api.example.test", **env}
        return Api(Gateway(Runtime(aws, extra_env=extra, output=FUNCTION_OUTPUT)), FUNCTION_OUTPUT)

    return make


@pytest.fixture
def api(api_with):
    return api_with()


# `make test` runs pytest on every core (pytest-xdist, -n): each worker is a process of its own, with
# its own in-process moto and environment (this file), so the in-process tests need nothing more.
# each starts processes of its own: a stack, execution environments, clients (tests/browser: and Chromium)
STACK_TESTS = ("tests/stack/", "tests/browser/")


class StackTestsOnOneWorker(LoadScopeScheduling):
    """Every test a unit of work of its own, but the stack tests one unit: they run on one worker,
    one after another (a module's stack starts once, and never two stacks fight for the cores),
    first (the largest unit) while the other workers share the in-process tests."""

    def _split_scope(self, nodeid: str) -> str:
        return "stack" if nodeid.startswith(STACK_TESTS) else nodeid


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # before xdist's own choice for --dist load (-n's default)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadScopeScheduling | None:
    return StackTestsOnOneWorker(config, log) if config.getvalue("dist") == "load" else None
