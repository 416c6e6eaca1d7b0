"""What the browser tests share besides fixtures: the running stack and its API, tokens, opening a
screen signed in, reading a list's rows, screenshots and axe-core."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from playwright.sync_api import Locator, Page, expect

from local.template import ROOT
from tests.support import token as mint

AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "screenshots"
DEMO_TENANT = "demo"
PAGE_SIZE = 50  # the console's rows per page (console/js/list.js)


@dataclass
class Stack:
    base: str
    token: str  # the demo tenant's admin token, as the banner prints it
    banner: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def api(self, path: str, token: str | None = None, **params: Any) -> requests.Response:
        """The public API, called directly as the console calls it (same token, same query)."""
        return requests.get(f"{self.base}{path}", params=params, timeout=120,
                            headers={"Authorization": f"Bearer {token or self.token}"})

    def page(self, path: str, **params: Any) -> dict[str, Any]:
        """One page of a list as the console asks for it (its page size unless `limit` is given)."""
        answer = self.api(path, **{"limit": PAGE_SIZE, **params})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def items(self, path: str, **params: Any) -> list[dict[str, Any]]:
        answer = self.api(path, **{"limit": PAGE_SIZE, **params})
        assert answer.status_code == 200, answer.text
        return answer.json()["items"]


def demo_token(*rights: str, org_units: tuple[str, ...] = ("*",)) -> str:
    """A token of the demo tenant with exactly these rights (minted as local/token.py does)."""
    return mint(DEMO_TENANT, rights=list(rights), org_units=org_units, sub="browser-test", name="Tester, Browser")


def open_screen(page: Page, stack: Stack, route: str, token: str | None = None) -> None:
    """The console signed in with `token` (the demo admin's by default), at `route` (#/…), drawn."""
    page.goto(f"{stack.base}/console/#token={token or stack.token}&to={quote(route, safe='/')}")
    expect(page.locator("main#main")).to_have_attribute("data-state", "ready")


def results(page: Page) -> Locator:
    """The list's rows, once it has loaded them (it marks its results loaded, empty or error)."""
    region = page.locator("main .results").first
    expect(region).to_have_attribute("data-state", re.compile("^(loaded|empty|error)$"))
    return region.locator("tbody tr")


def row_keys(page: Page, attribute: str) -> list[str]:
    rows = results(page)
    return [rows.nth(i).get_attribute(attribute) or "" for i in range(rows.count())]


def rows_after(page: Page, action: Callable[[], Any], attribute: str) -> list[str]:
    """The rows once the list has loaded again after `action` (a click): the old ones are marked
    stale first, so that they are not read again."""
    page.locator("main .results").first.evaluate("node => { node.dataset.state = 'stale'; }")
    action()
    return row_keys(page, attribute)


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def screenshot(page: Page, name: str) -> Path:
    """The screen as the user first sees it (the window, not the whole page: small files), to
    screenshots/<name>.png (git-ignored; the README shows a few, copied to docs/screenshots/)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's violations of the page as it is now, of these impacts. axe is injected by the test
    (the DevTools protocol evaluates it: the console's CSP, which forbids inline script, allows it)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text())
    found = page.evaluate("async () => (await window.axe.run(document, {resultTypes: ['violations']})).violations")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in found if v["impact"] in impacts]
