"""The web console's files (console/) as the local stack serves them at /console/: GET and HEAD
only, a fixed set of content types, nothing outside the folder, and the strict security headers
the console is written for (no inline script or style, nothing from another origin)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

from local.template import ROOT

CONSOLE_DIR = ROOT / "console"
PREFIX = "/console/"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "connect-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'",
    "form-action 'self'",
))

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-cache",  # a newer console after a restart, never a stale module
}


def is_console(path: str) -> bool:
    return path == PREFIX.rstrip("/") or path.startswith(PREFIX)


def _not_found() -> tuple[int, dict[str, str], bytes]:
    return 404, {"content-type": "application/json", **SECURITY_HEADERS}, json.dumps({"message": "Not Found"}).encode()


def resolve(path: str, root: Path = CONSOLE_DIR) -> Path | None:
    """The file under `root` that a /console/… path names, or None: no dot segments or hidden
    names (so no `..`, encoded or not), no backslash or NUL, and only the content types above."""
    relative = unquote(path[len(PREFIX):]) or "index.html"
    parts = relative.split("/")
    if any(not part or part.startswith(".") or "\\" in part or "\x00" in part for part in parts):
        return None
    candidate = root.joinpath(*parts)
    if candidate.suffix not in CONTENT_TYPES:
        return None
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(root.resolve()) or not resolved.is_file():
        return None
    return resolved


def serve(method: str, path: str, root: Path = CONSOLE_DIR) -> tuple[int, dict[str, str], bytes]:
    if method not in ("GET", "HEAD"):
        return _not_found()
    if path == PREFIX.rstrip("/"):  # the fragment (#token=…) survives a redirect
        return 301, {"location": PREFIX, **SECURITY_HEADERS}, b""
    found = resolve(path, root)
    if found is None:
        return _not_found()
    return 200, {"content-type": CONTENT_TYPES[found.suffix], **SECURITY_HEADERS}, found.read_bytes()
