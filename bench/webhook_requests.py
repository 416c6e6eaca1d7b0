"""Provider webhook requests as the providers send them, signed (mirrors tests/support.py).

SendGrid: a JSON array of events, ECDSA-signed over timestamp + raw body. Mailgun: one event per
POST, HMAC-signed token. Both carry our message id in the provider's custom data, as a sender
sets it, so each event matches its delivery by our id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"  # mailgun-php's test key (tests/vectors/mailgun.json)


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


class SendgridSigner:
    """A tenant's SendGrid signing key pair: the public half goes into the tenant's credentials."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        self._private = ec.generate_private_key(ec.SECP256R1())
        der = self._private.public_key().public_bytes(serialization.Encoding.DER,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)
        self.public_key = base64.b64encode(der).decode()

    def request(self, tenant: str, events: list[dict[str, Any]]) -> Request:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        body = (json.dumps(events) + "\r\n").encode()  # SendGrid's bodies end so; the signature covers it
        timestamp = str(int(time.time()))
        signature = base64.b64encode(self._private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
        return Request(f"/v1/webhooks/sendgrid/{tenant}", {
            "content-type": "application/json", "x-twilio-email-event-webhook-signature": signature,
            "x-twilio-email-event-webhook-timestamp": timestamp}, body)


def sendgrid_event(address: str, message_id: str, at: float, event: str = "delivered") -> dict[str, Any]:
    """One event as SendGrid's Event Webhook posts it (fields of tests/vectors/sendgrid.json)."""
    sg_id = secrets.token_urlsafe(16)
    return {
        "email": address, "timestamp": int(at), "smtp-id": f"<{sg_id}@ismtpd-555>", "event": event,
        "category": "Missing Work", "sg_event_id": secrets.token_urlsafe(16),
        "sg_message_id": f"{sg_id}.filter0001.16648.5515E0B88.0", "response": "250 OK",
        "message_id": message_id,  # our id, a custom arg set when sending
    }


def mailgun_request(tenant: str, address: str, message_id: str, at: float, subject: str,
                    event: str = "delivered") -> Request:
    """One signed Mailgun event (the shape of tests/vectors/mailgun.json's delivered event)."""
    timestamp, token = str(int(time.time())), secrets.token_hex(25)
    signature = hmac.new(MAILGUN_KEY.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    data = {
        "event": event, "id": secrets.token_urlsafe(16)[:22], "timestamp": at, "log-level": "info",
        "envelope": {"transport": "smtp", "sender": "noreply@mg.example.edu", "sending-ip": "198.51.100.7",
                     "targets": address},
        "flags": {"is-routed": False, "is-authenticated": True, "is-system-test": False, "is-test-mode": False},
        "delivery-status": {"tls": True, "mx-host": "mx.example.com", "code": 250, "description": "",
                            "session-seconds": 0.43, "utf8": True, "attempt-no": 1, "message": "OK",
                            "certificate-verified": True},
        "message": {"headers": {"to": address, "message-id": f"{secrets.token_hex(8)}@mg.example.edu",
                                "from": "District <noreply@mg.example.edu>", "subject": subject},
                    "attachments": [], "size": 2048},
        "recipient": address, "recipient-domain": address.rpartition("@")[2], "campaigns": [], "tags": [],
        "user-variables": {"message_id": message_id},
    }
    payload = {"signature": {"timestamp": timestamp, "token": token, "signature": signature}, "event-data": data}
    return Request(f"/v1/webhooks/mailgun/{tenant}", {"content-type": "application/json"},
                   json.dumps(payload).encode())
