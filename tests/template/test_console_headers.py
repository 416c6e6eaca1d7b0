"""The deployed console (DeployConsole, issue 19) is served with the headers it is tested under
locally (local/console.py): the same Content-Security-Policy, the identity provider added to
connect-src for the OIDC sign-in, and the same nosniff, framing and referrer headers."""

from __future__ import annotations

from local.console import CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from local.template import resources


def _directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


def test_the_deployed_console_has_the_local_console_s_security_headers():
    config = resources()["ConsoleHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    deployed = _directives(config["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"])
    local = _directives(CONTENT_SECURITY_POLICY)
    assert deployed.pop("connect-src") == local.pop("connect-src") + " ${JwtIssuer}"
    assert deployed == local
    assert SECURITY_HEADERS["x-content-type-options"] == "nosniff"
    assert config["ContentTypeOptions"] == {"Override": True}  # CloudFront's way of saying nosniff
    assert config["FrameOptions"]["FrameOption"] == SECURITY_HEADERS["x-frame-options"]
    assert config["ReferrerPolicy"]["ReferrerPolicy"] == SECURITY_HEADERS["referrer-policy"]
    assert config["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000  # HTTPS only, in AWS
