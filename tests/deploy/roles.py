"""Who may do what in the deployed template (.aws-sam/build/cloudformation.json): each function's
IAM role, as SAM's transform wrote it."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.support import wildcard_refusals


def refs(value: Any) -> set[str]:
    """The logical ids (and pseudo parameters) a value refers to: Ref, GetAtt, and ${…} of Sub."""
    found: set[str] = set()
    if isinstance(value, dict):
        for name, arg in value.items():
            if name == "Ref":
                found.add(arg)
            elif name == "Fn::GetAtt":
                found.add(arg[0] if isinstance(arg, list) else arg.split(".")[0])
            elif name == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
                if not isinstance(arg, str):
                    found |= refs(arg[1])
            else:
                found |= refs(arg)
    elif isinstance(value, list):
        for item in value:
            found |= refs(item)
    return found


def _resource_kind(resource: Any) -> str:
    if "Table" in refs(resource):
        return "index" if "/index/" in json.dumps(resource) else "table"
    return "other"


def allowed(template: dict[str, Any], logical_id: str) -> set[tuple[str, str]]:
    """(action, table|index|"") pairs the function's role allows, from its inline policies as
    deployed (SAM's policy templates expanded by the transform). The rest is Lambda's own use, not
    the code's: managed policies (logs, X-Ray, queue polling), failed-run destinations."""
    [role] = refs(template["Resources"][logical_id]["Properties"]["Role"])
    out = set()
    for policy in template["Resources"][role]["Properties"].get("Policies", []):
        if not re.fullmatch(rf"{role}Policy\d+", policy["PolicyName"]):  # the template's own are <Role>Policy<n>
            continue
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            assert not wildcard_refusals(statement), (logical_id, statement)
            for action in statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]:
                for target in targets:
                    out.add((action, _resource_kind(target) if action.startswith("dynamodb:") else ""))
    return out
