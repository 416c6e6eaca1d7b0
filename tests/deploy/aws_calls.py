"""pytest plugin: every AWS call any test makes a function make, held against that function's
deployed role. `make test` loads it (`-p tests.deploy.aws_calls`) after `make deploy-check` built
.aws-sam/build/cloudformation.json: a call no role allows fails the run, naming the function, the
action and the first test that made it. (tests/deploy's flow also fails what is granted and unused.)

Under pytest-xdist (`-n`) each worker records its own calls and hands them to the controller in
`workeroutput`; the controller merges them and checks once, so the run fails as it does serially.
`--aws-calls-template` and `--aws-calls-record` name other files (tests/deploy/test_aws_calls.py).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.roles import allowed
from tests.support import iam_actions

ROOT = Path(__file__).resolve().parents[2]
CLOUDFORMATION = ROOT / ".aws-sam" / "build" / "cloudformation.json"
RECORD = ROOT / ".local" / "aws-calls.json"

_calls: dict[tuple[str, str, str], str] = {}  # (function, action, resource kind) -> the first test making it
_current_test = {"id": ""}
WORKER_OUTPUT = "aws_calls"  # the key of a worker's calls in xdist's workeroutput


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aws_calls", "AWS calls held against the deployed roles")
    group.addoption("--aws-calls-template", default=str(CLOUDFORMATION),
                    help="the translated template whose roles the calls are held against")
    group.addoption("--aws-calls-record", default=str(RECORD), help="where the calls made are written")


def pytest_configure(config: pytest.Config) -> None:
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__

    def record(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")  # set while the local runtime invokes one
        if self.enabled and function and _made_by_function_code():
            for action, kind in iam_actions(event_name, request):
                _calls.setdefault((function, action, kind), _current_test["id"])
        return original(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = record  # for the whole session; tests' own patches wrap it


FUNCTION_CODE = (str(ROOT / "functions"), str(ROOT / "layers"))


def _made_by_function_code() -> bool:
    """Whether the nearest of our frames is the functions' code, not the local stack's (its SQS
    poller stands in for Lambda's event source mappings, which need no permission of the function)."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(str(ROOT)) and ".venv" not in name:
            return name.startswith(FUNCTION_CODE)
        frame = frame.f_back
    return False


def pytest_runtest_setup(item: pytest.Item) -> None:
    _current_test["id"] = item.nodeid


def _merge(rows: list[list[str]]) -> None:
    """Add calls recorded elsewhere; of two tests making the same call, the first by node id is named."""
    for function, action, kind, test in rows:
        key = (function, action, kind)
        _calls[key] = min(_calls.get(key, test), test)


@pytest.hookimpl(optionalhook=True)  # an xdist hook: the controller, as each worker finishes
def pytest_testnodedown(node: Any, error: Any) -> None:
    _merge(getattr(node, "workeroutput", {}).get(WORKER_OUTPUT, []))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    rows = sorted([*key, test] for key, test in _calls.items())
    if hasattr(config, "workerinput"):  # an xdist worker: the controller checks everyone's calls
        config.workeroutput[WORKER_OUTPUT] = rows
        return
    record = Path(config.getoption("aws_calls_record"))
    record.parent.mkdir(exist_ok=True)
    record.write_text(json.dumps(rows, indent=0))
    cloudformation = Path(config.getoption("aws_calls_template"))
    if not cloudformation.exists():
        config.get_terminal_writer().line(f"\nAWS calls not checked: {cloudformation} is missing "
                                          "(make deploy-check builds it)", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    template = json.loads(cloudformation.read_text())
    granted: dict[str, set[tuple[str, str]]] = {}
    refused = []
    for (function, action, kind), test in sorted(_calls.items()):
        if function not in granted:
            granted[function] = allowed(template, function)
        if (action, kind if action.startswith("dynamodb:") else "") not in granted[function]:
            refused.append(f"{function}: {action} ({kind or 'any resource'}) not in its role; made in {test}")
    writer = config.get_terminal_writer()
    writer.line()
    if refused:
        writer.line("AWS calls the deployed roles would refuse (template.yaml, the function's Policies):", red=True)
        for line in refused:
            writer.line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        writer.line(f"AWS calls: {len(_calls)} (function, action) pairs made by the tests, all in the deployed roles")
