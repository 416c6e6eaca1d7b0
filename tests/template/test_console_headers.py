"""The deployed console (DeployConsole, issue 19) is served with the headers it is tested under
locally (local/console.py): the same Content-Security-Policy, the identity provider added to
connect-src for the OIDC sign-in (the issuer as a path prefix, and ConsoleConnectSources: a token
endpoint on another origin), and the same nosniff, framing and referrer headers."""

from __future__ import annotations

import re

import pytest

from local.console import CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from local.template import load, parameters, resolve, resources


def _directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


def _policy(issuer: str, connect_sources: str) -> str:
    config = resources()["ConsoleHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    overrides = {"JwtIssuer": issuer, "JwtAudience": "api", "DeployConsole": "true",
                 "ConsoleConnectSources": connect_sources}
    return resolve(config["ContentSecurityPolicy"]["ContentSecurityPolicy"], {}, parameters(overrides=overrides))


@pytest.mark.parametrize(("issuer", "prefix"), [
    ("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool/"),
    ("https://tenant.eu.auth0.com/", "https://tenant.eu.auth0.com/"),
    ("https://example.okta.com/oauth2/default", "https://example.okta.com/oauth2/default/"),
])
def test_connect_src_allows_the_issuer_as_a_path_prefix_and_the_other_origins(issuer: str, prefix: str):
    # a CSP source with a path and no trailing "/" allows that one URL only: never the discovery document
    assert _directives(_policy(issuer, ""))["connect-src"] == f"'self' {prefix}"
    sources = "https://pool.auth.eu-west-1.amazoncognito.com https://login.example:8443"
    assert _directives(_policy(issuer, sources))["connect-src"] == f"'self' {prefix} {sources}"


def test_the_other_connect_sources_are_https_origins_only():
    spec = load()["Parameters"]["ConsoleConnectSources"]
    assert spec["Default"] == ""
    pattern = re.compile(spec["AllowedPattern"])  # CloudFormation matches the whole value
    for good in ("", "https://pool.auth.eu-west-1.amazoncognito.com", "https://a.example https://b.example:8443"):
        assert pattern.fullmatch(good), good
    for bad in ("http://a.example", "https://a.example/path", "https://a.example;", "'unsafe-eval'", "*",
                "https://a.example  https://b.example", "https://a.example ", "https://*.example"):
        assert not pattern.fullmatch(bad), bad


def test_the_deployed_console_has_the_local_console_s_security_headers():
    config = resources()["ConsoleHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    deployed = _directives(_policy("https://idp.example/", ""))
    local = _directives(CONTENT_SECURITY_POLICY)
    assert deployed.pop("connect-src") == local.pop("connect-src") + " https://idp.example/"
    assert deployed == local
    assert SECURITY_HEADERS["x-content-type-options"] == "nosniff"
    assert config["ContentTypeOptions"] == {"Override": True}  # CloudFront's way of saying nosniff
    assert config["FrameOptions"]["FrameOption"] == SECURITY_HEADERS["x-frame-options"]
    assert config["ReferrerPolicy"]["ReferrerPolicy"] == SECURITY_HEADERS["referrer-policy"]
    assert config["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000  # HTTPS only, in AWS
