"""Opaque, tamper-proof pagination cursors, bound to the tenant, the view and the query.

A cursor is base64url(JSON) + "." + base64url(HMAC-SHA256). The signing keys live in one
Secrets Manager secret: either a plain string, or {"current": k, "previous": [k, ...]} while a
key is rotated (cursors signed with a previous key still read until they expire).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from msglog.config import config
from msglog.errors import invalid

CURSOR_TTL_SECONDS = 24 * 3600
_KEYS_TTL_SECONDS = 300
_keys_cache: tuple[float, list[bytes]] | None = None


def _signing_keys() -> list[bytes]:
    """Current key first. Cached for five minutes so that a rotation reaches every container."""
    global _keys_cache
    if _keys_cache and _keys_cache[0] > time.monotonic():
        return _keys_cache[1]
    from msglog.aws import client

    secret = client("secretsmanager").get_secret_value(SecretId=config().cursor_secret_id)["SecretString"]
    try:
        parsed = json.loads(secret)
    except ValueError:
        parsed = secret
    if isinstance(parsed, dict):
        keys = [parsed["current"], *parsed.get("previous", [])]
    else:
        keys = [str(parsed)]
    _keys_cache = (time.monotonic() + _KEYS_TTL_SECONDS, [k.encode() for k in keys])
    return _keys_cache[1]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def query_digest(query: dict[str, Any]) -> str:
    canonical = json.dumps(query, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode(position: Any, *, tenant: str, view: str, query: dict[str, Any]) -> str:
    payload = json.dumps(
        {"t": tenant, "v": view, "q": query_digest(query), "p": position, "x": int(time.time()) + CURSOR_TTL_SECONDS},
        separators=(",", ":"),
    ).encode()
    mac = hmac.new(_signing_keys()[0], payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def decode(cursor: str, *, tenant: str, view: str, query: dict[str, Any]) -> Any:
    """The position a cursor holds; 400 naming `cursor` if it was altered, expired or is foreign."""
    try:
        body, mac = cursor.split(".", 1)
        payload = _unb64(body)
        given = _unb64(mac)
    except ValueError:
        raise invalid("cursor", "is not a cursor this service issued") from None
    if not any(hmac.compare_digest(hmac.new(k, payload, hashlib.sha256).digest(), given) for k in _signing_keys()):
        raise invalid("cursor", "is not a cursor this service issued")
    data = json.loads(payload)
    if data.get("x", 0) < time.time():
        raise invalid("cursor", "has expired; start again from the first page")
    if data.get("t") != tenant or data.get("v") != view or data.get("q") != query_digest(query):
        raise invalid("cursor", "belongs to another query; start again from the first page")
    return data.get("p")
