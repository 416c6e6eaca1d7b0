"""Opaque, tamper-proof pagination cursors, bound to the tenant, the view and the query.

A cursor is encrypted, not only signed: base64url(nonce ‖ AES-256-GCM(position, padded)). A page
that stops at its examined-items budget resumes after the last item it examined, which may be one
the caller may not see (another org unit's, a staff recipient's): its key — an address, a message
id — must not be readable in the cursor the caller holds. The padding (to a multiple of 64 bytes)
keeps the cursor's length from telling the key's.

The keys live in one Secrets Manager secret: either a plain string, or {"current": k, "previous":
[k, ...]} while a key is rotated (cursors made with a previous key still open until they expire).
Each AES key is HMAC-SHA256(secret, "msglog cursor encryption"): the secret's own bytes are never
the cipher's key, whatever their length.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from typing import Any

from msglog.config import config
from msglog.errors import invalid
from msglog.snapstart import after_restore

CURSOR_TTL_SECONDS = 24 * 3600
_KEYS_TTL_SECONDS = 300
_NONCE_BYTES = 12
_PAD_TO = 64
_KEY_CONTEXT = b"msglog cursor encryption"
_keys_cache: tuple[float, list[bytes]] | None = None


def _encryption_keys() -> list[bytes]:
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
        secrets = [parsed["current"], *parsed.get("previous", [])]
    else:
        secrets = [str(parsed)]
    keys = [hmac.new(s.encode(), _KEY_CONTEXT, hashlib.sha256).digest() for s in secrets]
    _keys_cache = (time.monotonic() + _KEYS_TTL_SECONDS, keys)
    return keys


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def query_digest(query: dict[str, Any]) -> str:
    canonical = json.dumps(query, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode(position: Any, *, tenant: str, view: str, query: dict[str, Any]) -> str:
    # cryptography is imported here, as by the providers that use it: only a call that pages pays for it
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    payload = json.dumps(
        {"t": tenant, "v": view, "q": query_digest(query), "p": position, "x": int(time.time()) + CURSOR_TTL_SECONDS},
        separators=(",", ":"),
    ).encode()
    payload += b" " * (-len(payload) % _PAD_TO)  # JSON reads trailing spaces as nothing
    nonce = os.urandom(_NONCE_BYTES)
    return _b64(nonce + AESGCM(_encryption_keys()[0]).encrypt(nonce, payload, None))


def decode(cursor: str, *, tenant: str, view: str, query: dict[str, Any]) -> Any:
    """The position a cursor holds; 400 naming `cursor` if it was altered, expired or is foreign."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        sealed = _unb64(cursor)
    except ValueError:
        raise invalid("cursor", "is not a cursor this service issued") from None
    nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
    payload = None
    if len(nonce) == _NONCE_BYTES and ciphertext:
        for key in _encryption_keys():
            try:
                payload = AESGCM(key).decrypt(nonce, ciphertext, None)
                break
            except InvalidTag:
                continue
    if payload is None:
        raise invalid("cursor", "is not a cursor this service issued")
    data = json.loads(payload)
    if data.get("x", 0) < time.time():
        raise invalid("cursor", "has expired; start again from the first page")
    if data.get("t") != tenant or data.get("v") != view or data.get("q") != query_digest(query):
        raise invalid("cursor", "belongs to another query; start again from the first page")
    return data.get("p")


@after_restore
def _forget_keys() -> None:
    # The expiry is a monotonic time of the snapshotted process: meaningless in a restored copy.
    global _keys_cache
    _keys_cache = None


reset = _forget_keys  # tests: a fresh container, or the five minutes it keeps the keys are over
