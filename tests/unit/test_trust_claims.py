"""Issue 20, items 4 and 5, below the HTTP API: claims as API Gateway hands them over, and the
service's own audit actions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from msglog.auth import Caller
from msglog.errors import Unauthorized
from msglog.provenance import SERVICE_NAMESPACES, is_service_action

LAYER = Path(__file__).resolve().parents[2] / "layers" / "msglog" / "msglog"


def claims(**overrides):
    return {"sub": "u1", "tenant_id": "acme", "rights": "[logs:sent]", "org_units": "[east]", **overrides}


@pytest.mark.parametrize("overrides", [
    {"rights": "[logs:sent,admin]"}, {"rights": "[logs:sent  admin]"}, {"rights": '["admin"]'},
    {"rights": "[logs:sent admin"}, {"rights": "logs:sent admin"}, {"rights": "[Admin]"},
    {"org_units": "[east *]"}, {"org_units": "[a,b]"}, {"org_units": "[east/west]"}, {"org_units": "[east ]"},
    {"tenant_id": "acme\n"},
])
def test_a_flattened_claim_that_could_be_read_two_ways_is_refused(overrides):
    with pytest.raises(Unauthorized):
        Caller.from_claims(claims(**overrides))


def test_the_signed_token_shows_what_api_gateways_flattening_hides():
    """In AWS "[logs:sent admin]" arrives for both lists below: the bearer token tells them apart."""
    flattened = claims(rights="[logs:sent admin]")
    two = Caller.from_claims(flattened, signed={**flattened, "rights": ["logs:sent", "admin"], "org_units": ["east"]})
    assert two.rights == {"logs:sent", "admin"} and two.org_units == {"east"}
    # A string the issuer signed is one value: "[logs:sent admin]" as a string is not two rights.
    for rights in (["logs:sent admin"], ["logs:sent", "admin", "logs:audit"], "logs:sent admin", [["admin"]],
                   "[logs:sent admin]"):
        with pytest.raises(Unauthorized):
            Caller.from_claims(flattened, signed={**flattened, "rights": rights, "org_units": ["east"]})
    # Well-formed claims read as they always did.
    caller = Caller.from_claims(claims(rights="[logs:sent logs:other-app:read admin]", org_units="[school-1 S_2.b]"))
    assert caller.rights == {"logs:sent", "admin"}  # a well-formed right this service does not know is ignored
    assert caller.org_units == {"school-1", "S_2.b"}
    assert Caller.from_claims(claims(rights="[]", org_units="*")).org_units == {"*"}
    assert Caller.from_claims(claims(rights=["admin"], org_units=["*"])).rights == {"admin"}
    one = claims(rights="[logs:sent]", org_units="[east]")  # a one-value claim signed as a bare string
    assert Caller.from_claims(one, signed={**one, "rights": "logs:sent", "org_units": "east"}).org_units == {"east"}
    with pytest.raises(Unauthorized):
        Caller.from_claims(claims(org_units="[a b]"),
                           signed={**claims(), "rights": ["logs:sent"], "org_units": "[a b]"})


@pytest.mark.parametrize(("action", "theirs"), [
    ("provider.credentials_changed", True), ("PROVIDER.credentials_changed", True), ("tenant settings", True),
    ("-suppression.added", True), ("ｔｅｎａｎｔ.settings_changed", True), ("person_erased", True),
    ("student.updated", False), ("providers-list.viewed", False), ("e-mail submitted", False), ("", False),
])
def test_what_reads_as_the_services_own_action(action, theirs):
    assert is_service_action(action) is theirs


def _audited_actions() -> list[tuple[str, str]]:
    """(module, action's first text) of every audit.record(...) call in the layer."""
    found = []
    for path in sorted(LAYER.rglob("*.py")):
        tree = ast.parse(path.read_text())
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "audit"):
                continue
            [action] = [k.value for k in node.keywords if k.arg == "action"]
            branches = [action.body, action.orelse] if isinstance(action, ast.IfExp) else [action]
            for branch in branches:
                if isinstance(branch, ast.JoinedStr):
                    branch = branch.values[0]
                text = constants.get(branch.id) if isinstance(branch, ast.Name) else getattr(branch, "value", None)
                found.append((path.name, text))
    return found


def test_every_action_the_service_audits_is_in_a_namespace_clients_cannot_post():
    audited = _audited_actions()
    assert len(audited) >= 8  # credentials, settings, suppressions, purges, erasures, operator commands
    assert [(module, text) for module, text in audited if not (isinstance(text, str) and is_service_action(text))] == []
    assert {text.split(".")[0] for _, text in audited} <= SERVICE_NAMESPACES
