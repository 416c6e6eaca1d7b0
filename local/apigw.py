"""What API Gateway (HTTP API, payload 2.0) does in front of the functions: JWT check, the
event a function receives, and the HTTP answer made from what it returns.

Locally the JWT is HS256 with LOCAL_JWT_SECRET (iss/aud not checked); the claims reach the
handler exactly as the authorizer hands them over: strings, lists flattened to "[a b c]".
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
import uuid
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from local.template import ACCOUNT_ID, Route

DEFAULT_SECRET = "local-dev-secret"  # the Contract's default; shorter than HS256 would like, fine locally
warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)
TEXT_TYPES = re.compile(r"^(text/|application/(json|xml|javascript)|application/[\w.+-]+\+(json|xml))", re.I)


def jwt_secret() -> str:
    return os.environ.get("LOCAL_JWT_SECRET", DEFAULT_SECRET)


def mint_token(claims: dict[str, Any], *, ttl_seconds: int = 12 * 3600, secret: str | None = None) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now, "exp": now + ttl_seconds, **claims}, secret or jwt_secret(), algorithm="HS256")


def _flatten(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    return str(value)


def authorizer_claims(authorization: str | None) -> dict[str, str] | None:
    """The claims as the JWT authorizer passes them on, or None (API Gateway answers 401)."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    try:
        claims = jwt.decode(authorization[7:].strip(), jwt_secret(), algorithms=["HS256"],
                            options={"verify_aud": False, "verify_iss": False, "require": ["exp"]})
    except jwt.PyJWTError:
        return None
    return {name: _flatten(value) for name, value in claims.items()}


@dataclass(frozen=True)
class Matcher:
    route: Route
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, route: Route) -> Matcher:
        regex = ""
        for part in re.split(r"(\{[^}]+\})", route.path):
            if part.startswith("{") and part.endswith("+}"):
                regex += f"(?P<{part[1:-2]}>.+)"
            elif part.startswith("{"):
                regex += f"(?P<{part[1:-1]}>[^/]+)"
            else:
                regex += re.escape(part)
        return cls(route, re.compile(f"^{regex}$"))

    @property
    def specificity(self) -> tuple[int, int]:
        return (-self.route.path.count("{"), len(self.route.path))


def match(matchers: list[Matcher], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The most specific route for the request, like HTTP API's route selection."""
    for matcher in sorted(matchers, key=lambda m: m.specificity, reverse=True):
        found = matcher.pattern.match(path)
        if found and matcher.route.method in (method, "ANY"):
            return matcher.route, {k: unquote(v) for k, v in found.groupdict().items()}
    return None


def build_event(
    route: Route,
    *,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    path_parameters: dict[str, str],
    claims: dict[str, str] | None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    lower = {k.lower(): v for k, v in headers.items()}
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": {k: v for k, v in lower.items() if k != "cookie"},
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": lower.get("host", "127.0.0.1"),
            "domainPrefix": lower.get("host", "127.0.0.1").split(".")[0],
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                     "userAgent": lower.get("user-agent", "")},
            "requestId": uuid.uuid4().hex[:16],
            "routeKey": route.key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if "cookie" in lower:
        event["cookies"] = [c.strip() for c in lower["cookie"].split(";")]
    if query:
        params: dict[str, list[str]] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            params.setdefault(name, []).append(value)
        event["queryStringParameters"] = {k: ",".join(v) for k, v in params.items()}
    if path_parameters:
        event["pathParameters"] = path_parameters
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    if body:
        if TEXT_TYPES.match(lower.get("content-type", "")):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        else:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


def to_http(result: Any) -> tuple[int, dict[str, str], bytes]:
    """An HTTP answer from a function's result, as HTTP API's payload 2.0 format defines it."""
    if not (isinstance(result, dict) and "statusCode" in result):
        return 200, {"content-type": "application/json"}, json.dumps(result).encode()
    headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ", ".join(str(v) for v in values)
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    if result.get("cookies"):
        headers["set-cookie"] = "; ".join(result["cookies"])
    return int(result["statusCode"]), headers, data
