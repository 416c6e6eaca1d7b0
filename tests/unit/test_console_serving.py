"""The web console as the local gateway serves it at /console/ (issue 19): the files, their content
types, the strict security headers, nothing outside console/, and a console that the CSP allows
(no inline script or style) within its size budget."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import threading

import pytest

from local.server import Gateway, serve
from local.template import ROOT
from tests.support import free_port

CONSOLE = ROOT / "console"


@pytest.fixture(scope="module")
def gateway_url():
    """The gateway's HTTP server as `make run` starts it; no function runs: none of these is an API route."""
    port = free_port()
    server = serve(Gateway(runtime=None), "127.0.0.1", port)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    server.server_close()


def get(port: int, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """A request with its path exactly as written (no client normalises `..` away)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        connection.putheader("content-length", "0")
        connection.endheaders()
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


def test_the_console_page_is_served_with_a_strict_content_security_policy(gateway_url):
    status, headers, body = get(gateway_url, "/console/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    policy = {part.split()[0]: part.split()[1:] for part in headers["content-security-policy"].split("; ")}
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"] and policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert b'<script type="module" src="js/app.js"></script>' in body


@pytest.mark.parametrize(("path", "content_type"), [
    ("/console/index.html", "text/html; charset=utf-8"),
    ("/console/style.css", "text/css; charset=utf-8"),
    ("/console/js/app.js", "text/javascript; charset=utf-8"),
    ("/console/js/screens/messages.js", "text/javascript; charset=utf-8"),
    ("/console/config.json", "application/json"),
])
def test_each_file_is_served_as_itself_with_its_content_type(gateway_url, path, content_type):
    status, headers, body = get(gateway_url, path)
    assert status == 200
    assert headers["content-type"] == content_type
    assert headers["x-content-type-options"] == "nosniff"
    assert body == (CONSOLE / path.removeprefix("/console/")).read_bytes()


def test_the_console_reads_its_api_base_from_config_json_same_origin_locally(gateway_url):
    assert json.loads(get(gateway_url, "/console/config.json")[2]) == {"apiBase": ""}


@pytest.mark.parametrize("path", [
    "/console/../Makefile",
    "/console/%2e%2e/Makefile",
    "/console/..%2fMakefile",
    "/console/js/..%2f..%2fMakefile",
    "/console/%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/console/js/%2e%2e/%2e%2e/local/console.py",
    "/console/..%5c..%5cMakefile",
    "/console//etc/passwd",
    "/console/%2fetc%2fpasswd",
    "/console/.gitignore",
    "/console/README.md",  # in the folder, but no content type the console needs
    "/console/nothing-here.js",
    "/console/js",
])
def test_nothing_outside_the_console_files_is_served(gateway_url, path):
    status, headers, body = get(gateway_url, path)
    assert status == 404
    assert b"Makefile" not in body and b"root:" not in body and b"[project]" not in body
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"  # the console's 404, not the API's


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_the_console_only_answers_get(gateway_url, method):
    status, headers, _ = get(gateway_url, "/console/index.html", method)
    assert status == 404 and "content-security-policy" in headers


def test_head_answers_without_a_body(gateway_url):
    status, headers, body = get(gateway_url, "/console/", "HEAD")
    assert status == 200 and body == b"" and "content-security-policy" in headers


def test_console_without_its_slash_is_sent_to_the_page_so_the_token_fragment_survives(gateway_url):
    status, headers, _ = get(gateway_url, "/console")
    assert status == 301 and headers["location"] == "/console/"


def test_the_console_has_nothing_its_content_security_policy_would_block():
    """No inline script or style, no handler attribute, no HTML from strings, nothing from elsewhere."""
    html = (CONSOLE / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert "<style" not in html and " style=" not in html and not re.search(r"\son[a-z]+=", html)
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "something from another origin"
    for module in (CONSOLE / "js").rglob("*.js"):
        source = module.read_text().replace("http://www.w3.org/2000/svg", "")  # a namespace name, never fetched
        for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "new Function", ".style.",
                          "'style'", "document.write", "http://", "https://"):
            assert forbidden not in source, (module.name, forbidden)

def test_the_page_asks_for_every_module_at_once():
    """Each module is preloaded by the page, so the first screen does not wait import after import."""
    html = (CONSOLE / "index.html").read_text()
    preloaded = set(re.findall(r'<link rel="modulepreload" href="([^"]+)">', html))
    modules = {str(path.relative_to(CONSOLE)) for path in (CONSOLE / "js").rglob("*.js")} - {"js/app.js"}
    assert preloaded == modules


def test_the_console_stays_within_its_budget_of_150_kb_gzipped():
    files = [*CONSOLE.rglob("*.js"), *CONSOLE.rglob("*.css"), *CONSOLE.rglob("*.html")]
    total = sum(len(gzip.compress(path.read_bytes())) for path in files)
    assert 0 < total <= 150 * 1024, total
