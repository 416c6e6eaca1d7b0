"""Reads template.yaml: functions, their environment, their HTTP routes, and the resources.

Everything the local stack and the tests know about routes, functions and the table comes from
here, so they cannot drift from what `sam deploy` creates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
STACK_NAME = "message-log-local"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !GetAtt, !Sub, ...)."""


def _tag(loader: _Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # YAML has no other kind of node
        raise TypeError(f"unexpected YAML node {node!r}")
    return {name: value}


_Loader.add_multi_constructor("!", _tag)


@cache
def load(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_Loader)  # noqa: S506 - SafeLoader subclass


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    authorized: bool

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_uri: Path
    handler: str
    environment: dict[str, Any] = field(default_factory=dict)
    memory: int = 128
    timeout: int = 3


def resources(template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    return (template or load())["Resources"]


def functions(template: dict[str, Any] | None = None) -> dict[str, Function]:
    template = template or load()
    glob = template.get("Globals", {}).get("Function", {})
    out = {}
    for logical_id, resource in resources(template).items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        env = {**glob.get("Environment", {}).get("Variables", {}), **props.get("Environment", {}).get("Variables", {})}
        out[logical_id] = Function(
            logical_id=logical_id,
            code_uri=ROOT / props["CodeUri"],
            handler=props.get("Handler", glob.get("Handler", "app.handler")),
            environment=env,
            memory=int(props.get("MemorySize", glob.get("MemorySize", 128))),
            timeout=int(props.get("Timeout", glob.get("Timeout", 3))),
        )
    return out


def routes(template: dict[str, Any] | None = None) -> list[Route]:
    """Every HttpApi event of every function; a route is authorized unless its Auth says NONE."""
    return [Route(props["Method"].upper(), props["Path"], logical_id,
                  authorized=props.get("Auth", {}).get("Authorizer") != "NONE")
            for logical_id, props in _function_events(template, "HttpApi")]


@dataclass(frozen=True)
class QueueEvent:
    """An SQS event source: the function Lambda would invoke with the queue's messages."""

    function: str
    queue: str  # the queue's logical id
    batch_size: int
    reports_item_failures: bool  # FunctionResponseTypes: [ReportBatchItemFailures]


def queue_events(template: dict[str, Any] | None = None) -> list[QueueEvent]:
    """Every SQS event of every function (Queue: !GetAtt <Queue>.Arn)."""
    return [QueueEvent(logical_id, props["Queue"]["Fn::GetAtt"][0], int(props.get("BatchSize", 10)),
                       "ReportBatchItemFailures" in props.get("FunctionResponseTypes", []))
            for logical_id, props in _function_events(template, "SQS")]


def _function_events(template: dict[str, Any] | None, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(function logical id, event properties) of every event of type `kind` (HttpApi, SQS, ...)."""
    return [(logical_id, event["Properties"])
            for logical_id, resource in resources(template).items()
            if resource["Type"] == "AWS::Serverless::Function"
            for event in resource["Properties"].get("Events", {}).values()
            if event.get("Type") == kind]


def http_api(template: dict[str, Any] | None = None) -> dict[str, Any]:
    for resource in resources(template).values():
        if resource["Type"] == "AWS::Serverless::HttpApi":
            return resource["Properties"]
    return {}


def parameters(template: dict[str, Any] | None = None, overrides: dict[str, str] | None = None) -> dict[str, str]:
    declared = (template or load()).get("Parameters", {})
    values = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
    values.update(overrides or {})
    return values


_SUB = re.compile(r"\$\{([^}]+)\}")


def condition(name: str, params: dict[str, str], template: dict[str, Any] | None = None) -> bool:
    """A condition of the template with these parameters (Equals, Not, And, Or, Condition)."""
    def holds(value: Any) -> bool:
        (kind, arg), = value.items()
        if kind == "Condition":
            return holds((template or load())["Conditions"][arg])
        if kind == "Fn::Equals":
            left, right = (resolve(side, {}, params) for side in arg)
            return str(left) == str(right)
        if kind == "Fn::Not":
            return not holds(arg[0])
        if kind == "Fn::And":
            return all(holds(part) for part in arg)
        if kind == "Fn::Or":
            return any(holds(part) for part in arg)
        raise ValueError(f"unsupported condition function {kind}")

    return holds((template or load())["Conditions"][name])


def resolve(value: Any, refs: dict[str, str], params: dict[str, str]) -> Any:
    """Evaluate the intrinsics the environment and the console's headers use (Ref, GetAtt .Arn/.Name,
    Sub, Select, Split, If with the template's conditions)."""
    pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID, "AWS::Partition": "aws",
              "AWS::StackName": STACK_NAME, "AWS::URLSuffix": "amazonaws.com"}
    if isinstance(value, dict) and len(value) == 1:
        (name, arg), = value.items()
        if name == "Ref":
            return params[arg] if arg in params else pseudo.get(arg) or refs[arg]  # a parameter may be empty
        if name == "Fn::GetAtt":
            return refs[f"{arg[0]}.{arg[1]}"]
        if name == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

            def one(match: re.Match[str]) -> str:
                key = match.group(1)
                if key in extra:
                    return str(resolve(extra[key], refs, params))
                if "." in key:
                    return refs[key]
                return str(params[key] if key in params else pseudo.get(key) or refs[key])

            return _SUB.sub(one, text)
        if name == "Fn::Select":
            return resolve(arg[1], refs, params)[int(resolve(arg[0], refs, params))]
        if name == "Fn::Split":
            return str(resolve(arg[1], refs, params)).split(arg[0])
        if name == "Fn::If":
            return resolve(arg[1] if condition(arg[0], params) else arg[2], refs, params)
    if isinstance(value, list):
        return [resolve(v, refs, params) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, refs, params) for k, v in value.items()}
    return value
