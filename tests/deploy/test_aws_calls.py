"""The recording plugin (tests/deploy/aws_calls.py) under pytest-xdist, as `make test` runs it:
calls made on the workers reach the controller's check, and a call a role does not allow still
fails the run. Runs an API test in a pytest of its own, with two workers, against the built
template less one permission that test needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from local.template import ROOT
from tests.deploy.roles import refs

CLOUDFORMATION = ROOT / ".aws-sam" / "build" / "cloudformation.json"
A_SETTINGS_TEST = "tests/api/test_me.py::test_the_tenant_name_is_a_setting"  # it stores a setting:
STORING_A_SETTING = ("SettingsFunction", "dynamodb:PutItem")  # this call, which the role allows today


def _without(template: dict[str, Any], function: str, action: str) -> dict[str, Any]:
    """The template with `action` taken out of every statement of the function's role."""
    [role] = refs(template["Resources"][function]["Properties"]["Role"])
    for policy in template["Resources"][role]["Properties"].get("Policies", []):
        statements = policy["PolicyDocument"]["Statement"]
        for statement in statements:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            statement["Action"] = [a for a in actions if a != action]
        policy["PolicyDocument"]["Statement"] = [s for s in statements if s["Action"]]
    return template


def test_a_call_made_on_a_worker_that_the_role_does_not_allow_fails_the_run(tmp_path):
    if not CLOUDFORMATION.exists():
        pytest.fail("the built template is missing: run `make deploy-check`")
    function, action = STORING_A_SETTING
    narrowed, record = tmp_path / "cloudformation.json", tmp_path / "aws-calls.json"
    narrowed.write_text(json.dumps(_without(json.loads(CLOUDFORMATION.read_text()), function, action)))
    command = [sys.executable, "-m", "pytest", "-n", "2", "-p", "tests.deploy.aws_calls", "-p", "no:cacheprovider",
               "--aws-calls-template", str(narrowed), "--aws-calls-record", str(record), A_SETTINGS_TEST]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert "1 passed" in run.stdout, run.stdout + run.stderr  # the test passed: the run fails on the call alone
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout
    assert f"{function}: {action} (table) not in its role; made in {A_SETTINGS_TEST}" in run.stdout
    assert [function, action, "table", A_SETTINGS_TEST] in json.loads(record.read_text())
