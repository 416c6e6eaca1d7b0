"""What each function loads on a cold start (docs/decisions.md, "Cold starts"): the template's
handlers imported in fresh processes, as Lambda imports them. A module imported eagerly again
where it is not needed fails here, before `make bench` shows the slower cold start."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from local.template import ROOT, functions

HEAVY = ("pydantic", "aws_lambda_powertools.event_handler", "msglog.schemas", "msglog.ingest")
# Only the HTTP API's resolver functions carry powertools' validating event handler; pydantic besides
# them only where an input model parses the event (purge, ingestion health, operations); only the
# functions reading a body build the request models; only those storing events load ingestion.
NO_RESOLVER = {"WebhooksFunction", "ReplayFunction", "StatusFunction", "ExportFunction", "PurgeFunction",
               "IngestionHealthFunction", "OperationsFunction"}
NO_PYDANTIC = {"WebhooksFunction", "ReplayFunction", "StatusFunction", "ExportFunction"}
BODY_READERS = {"MessagesFunction", "RecordsFunction", "AccountFunction", "SuppressionsFunction",
                "SettingsFunction", "OperationsFunction"}
# erasure moves late events as ingestion does; a recovery (operator command, or ingestion health once a silent
# pair is back) ingests a window of provider events: both run off the request path, scheduled or by an operator
INGESTERS = {"WebhooksFunction", "ReplayFunction", "PeopleFunction", "OperationsFunction", "IngestionHealthFunction"}


def _loaded(code_uri: str, module: str, then: str = "") -> set[str]:
    code = "\n".join(["import sys, json", f"sys.path.insert(0, {code_uri!r})", f"import {module}", then,
                      f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"])
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'msglog'}{os.pathsep}{ROOT}",
           "AWS_DEFAULT_REGION": "us-east-1", "TABLE_NAME": "cold-imports"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return set(json.loads(done.stdout))


@pytest.mark.parametrize("name", sorted(functions()))
def test_a_function_imports_only_what_its_requests_use(name):
    function = functions()[name]
    loaded = _loaded(str(function.code_uri), function.handler.rpartition(".")[0])
    assert ("aws_lambda_powertools.event_handler" in loaded) == (name not in NO_RESOLVER)
    assert ("pydantic" in loaded) == (name not in NO_PYDANTIC)
    assert ("msglog.schemas" in loaded) == (name in BODY_READERS)
    assert ("msglog.ingest" in loaded) == (name in INGESTERS)


def test_the_api_request_log_line_builds_no_request_model():
    """Every JWT route writes one on its first request (msglog.http._log_call)."""
    assert "msglog.schemas" not in _loaded(str(ROOT), "msglog.http", then="from msglog import tenant_logs")
