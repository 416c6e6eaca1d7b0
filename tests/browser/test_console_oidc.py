"""Signing in to the console with OpenID Connect (console/js/oidc.js): the authorization code flow with
PKCE as a public client, as AWS deploys it (config.json's `oidc`). The console's files are served by
the local gateway; the identity provider is played by the test on the console's own origin (so the
page's Content-Security-Policy is the local one), or on Cognito's two origins with the console under
the policy the template gives in AWS; `GET /v1/me` too, which here only has to say which bearer
token the console sent."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from local.server import Gateway, serve
from local.template import parameters, resolve, resources
from tests.support import free_port

pytestmark = pytest.mark.browser

ACCESS_TOKEN = "access-token-from-the-identity-provider"
COGNITO_ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example"
COGNITO_DOMAIN = "https://message-log-example.auth.eu-west-1.amazoncognito.com"
ME = {"tenant_id": "demo", "tenant_name": "Demo district", "time_zone": "America/Chicago", "sub": "oidc-user",
      "name": "Signed, In", "rights": ["logs:provider"], "org_units": ["*"], "views": ["events"]}


@pytest.fixture(scope="module")
def console_base() -> Iterator[str]:
    """The gateway serving console/ as `make run` does (no API route is called through it here)."""
    port = free_port()
    server = serve(Gateway(runtime=None), "127.0.0.1", port)  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


class IdentityProvider:
    """Discovery, authorize (answers at once with a code, as after a login) and token endpoints,
    checking what a PKCE public client must send. By default all under `<console origin>/idp`; or
    at `issuer` with authorize and token under `endpoints` (another origin, as Cognito's), answering
    the console's cross-origin calls with CORS as providers do."""

    def __init__(self, base: str, issuer: str | None = None, endpoints: str | None = None):
        self.base = base
        self.issuer = issuer or f"{base}/idp"
        self.endpoints = endpoints or self.issuer
        self.authorize_query: dict[str, str] = {}
        self.token_form: dict[str, str] = {}
        self.bearers: list[str] = []
        self.me_urls: list[str] = []
        self.cors = {"access-control-allow-origin": "*"}

    def discovery(self, route: Route) -> None:
        route.fulfill(headers=self.cors, json={
            "issuer": self.issuer, "authorization_endpoint": f"{self.endpoints}/authorize",
            "token_endpoint": f"{self.endpoints}/token"})

    def authorize(self, route: Route) -> None:
        self.authorize_query = {k: v[0] for k, v in parse_qs(urlsplit(route.request.url).query).items()}
        back = f"{self.authorize_query['redirect_uri']}?" + urlencode(
            {"code": "the-code", "state": self.authorize_query["state"]})
        # a page sending the browser back, as after a login (a new navigation: a 302 from a route is
        # followed without the test's routes, so the console would come back under the local policy)
        route.fulfill(content_type="text/html",
                      body=f'<meta http-equiv="refresh" content="0;url={html.escape(back)}">')

    def token(self, route: Route) -> None:
        self.token_form = {k: v[0] for k, v in parse_qs(route.request.post_data or "").items()}
        verifier = self.token_form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if self.token_form.get("code") != "the-code" or challenge != self.authorize_query.get("code_challenge"):
            route.fulfill(status=400, headers=self.cors, json={"error": "invalid_grant"})
            return
        route.fulfill(headers=self.cors,
                      json={"access_token": ACCESS_TOKEN, "id_token": "an-id-token", "token_type": "Bearer"})

    def me(self, route: Route) -> None:
        if preflight(route):
            return
        self.me_urls.append(route.request.url)
        self.bearers.append(route.request.headers.get("authorization", ""))
        route.fulfill(headers=API_CORS, json=ME)


OidcPage = tuple[Page, IdentityProvider, list[str]]  # the page, its identity provider, its script errors


API_CORS = {"access-control-allow-origin": "*"}  # as the API's CorsAllowOrigin default says


def preflight(route: Route) -> bool:
    """Answers the browser's CORS preflight (a call with Authorization to another origin), as the API's
    CORS configuration does; False for any other request."""
    if route.request.method != "OPTIONS":
        return False
    route.fulfill(status=204, headers={**API_CORS, "access-control-allow-headers": "authorization,content-type",
                                       "access-control-allow-methods": "GET,POST,PUT,PATCH,DELETE"})
    return True


def no_events(route: Route) -> None:
    if not preflight(route):
        route.fulfill(headers=API_CORS, json={"items": [], "next_cursor": None})


def served_with(policy: str) -> Callable[[Route], None]:
    """The console's files as the gateway serves them, under this Content-Security-Policy instead."""
    def serve_file(route: Route) -> None:
        answer = route.fetch()
        route.fulfill(response=answer, headers={**answer.headers, "content-security-policy": policy})

    return serve_file


@pytest.fixture
def oidc_page(browser: Browser, console_base: str) -> Iterator[Callable[..., OidcPage]]:
    """A fresh page whose config.json names the test's identity provider with these settings; the
    provider at `issuer`/`endpoints` if given (IdentityProvider), the console under `policy` if given,
    its config.json's `apiBase` if given."""
    contexts: list[BrowserContext] = []

    def make(oidc: dict[str, Any], issuer: str | None = None, endpoints: str | None = None,
             policy: str | None = None, api_base: str = "") -> OidcPage:
        idp = IdentityProvider(console_base, issuer, endpoints)
        context = browser.new_context(locale="en-US")
        contexts.append(context)
        context.set_default_timeout(30_000)
        errors: list[str] = []
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        if policy is not None:  # routes added later are tried first: config.json stays the test's own
            page.route("**/console/**", served_with(policy))
        page.route("**/console/config.json", lambda route: route.fulfill(
            json={"apiBase": api_base, "oidc": {**oidc, "issuer": idp.issuer}}))
        page.route(f"{idp.issuer.rstrip('/')}/.well-known/openid-configuration", idp.discovery)
        page.route(re.compile(re.escape(f"{idp.endpoints}/authorize?") + ".*"), idp.authorize)
        page.route(f"{idp.endpoints}/token", idp.token)
        page.route("**/v1/me", idp.me)
        page.route(re.compile(r".*/v1/events\?.*"), no_events)
        return page, idp, errors

    yield make
    for context in contexts:
        context.close()


def test_signing_in_with_the_identity_provider_uses_pkce_and_the_access_token(oidc_page, console_base: str):
    page, idp, errors = oidc_page({"clientId": "console-client", "audience": "message-log"})
    page.goto(f"{console_base}/console/")
    expect(page.locator("main#main")).to_have_attribute("data-state", "sign-in")
    page.get_by_role("button", name="Sign in with your identity provider").click()
    expect(page.locator("main#main")).to_have_attribute("data-state", "ready")
    expect(page.locator("header .user")).to_have_text(ME["name"])

    asked = idp.authorize_query
    assert asked["response_type"] == "code" and asked["client_id"] == "console-client"
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["redirect_uri"] == f"{console_base}/console/" and asked["audience"] == "message-log"
    assert idp.token_form["grant_type"] == "authorization_code"
    assert idp.token_form["redirect_uri"] == asked["redirect_uri"] and idp.token_form["client_id"] == "console-client"
    assert idp.bearers[-1] == f"Bearer {ACCESS_TOKEN}"  # the access token, not the ID token
    assert "code=" not in page.url and "state=" not in page.url  # the code left the address bar
    expect(page.locator("#nav a")).to_have_text(["Provider events"])  # GET /v1/me's views
    assert errors == []


def test_an_answer_that_is_not_this_tab_s_is_refused(oidc_page, console_base: str):
    page, idp, _ = oidc_page({"clientId": "console-client"})
    page.goto(f"{console_base}/console/?{urlencode({'code': 'the-code', 'state': 'someone-elses'})}")
    expect(page.locator("main#main")).to_have_attribute("data-state", "sign-in")
    expect(page.locator("main [role=alert]")).to_contain_text("does not match this tab")
    assert idp.token_form == {} and idp.bearers == []  # no code exchanged, no API call
    assert "code=" not in page.url


def deployed_policy(issuer: str, connect_sources: str = "") -> str:
    """The Content-Security-Policy the template's ConsoleHeaders give with these parameters."""
    headers = resources()["ConsoleHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    overrides = {"JwtIssuer": issuer, "JwtAudience": "message-log", "DeployConsole": "true",
                 "ConsoleConnectSources": connect_sources}
    return resolve(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"], {}, parameters(overrides=overrides))


@pytest.mark.parametrize("issuer", [COGNITO_ISSUER, f"{COGNITO_ISSUER}/"], ids=["issuer", "issuer-with-slash"])
def test_signing_in_with_cognito_under_the_deployed_console_s_policy(oidc_page, console_base: str, issuer: str):
    # Cognito: the issuer (and its discovery document) is a path on cognito-idp's host, authorize and
    # token on the user pool's domain; the console runs under the policy AWS would serve it with
    policy = deployed_policy(issuer, COGNITO_DOMAIN)
    page, idp, errors = oidc_page({"clientId": "console-client"}, issuer=issuer, endpoints=f"{COGNITO_DOMAIN}/oauth2",
                                  policy=policy)
    page.goto(f"{console_base}/console/")
    assert page.evaluate("() => fetch('index.html').then((a) => a.headers.get('content-security-policy'))") == policy
    page.get_by_role("button", name="Sign in with your identity provider").click()
    expect(page.locator("main#main")).to_have_attribute("data-state", "ready")
    expect(page.locator("header .user")).to_have_text(ME["name"])
    assert idp.token_form["code_verifier"] and idp.bearers[-1] == f"Bearer {ACCESS_TOKEN}"
    assert errors == []


def test_an_api_on_another_origin_is_called_when_console_connect_sources_lists_it(oidc_page, console_base: str):
    # the deployed console calls its own origin (CloudFront forwards /v1/*); a config.json whose
    # apiBase is another origin needs that origin in ConsoleConnectSources (and the API's CORS)
    api = "https://api.example.com"
    policy = deployed_policy(COGNITO_ISSUER, f"{COGNITO_DOMAIN} {api}")
    page, idp, errors = oidc_page({"clientId": "console-client"}, issuer=COGNITO_ISSUER,
                                  endpoints=f"{COGNITO_DOMAIN}/oauth2", policy=policy, api_base=f"{api}/")
    page.goto(f"{console_base}/console/")
    page.get_by_role("button", name="Sign in with your identity provider").click()
    expect(page.locator("main#main")).to_have_attribute("data-state", "ready")
    expect(page.locator("header .user")).to_have_text(ME["name"])
    assert idp.me_urls and {urlsplit(u).netloc for u in idp.me_urls} == {"api.example.com"}
    assert errors == []
