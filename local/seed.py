"""Demo data for `make run`: a school district's tenant with a few weeks of messages.

Everything goes through the real handlers (the local gateway), as a SaaS back end and the
providers would send it: settings, Mailgun and Twilio credentials, messages over e-mail, SMS and
push, signed Mailgun webhooks — some arriving before their message is recorded, a few bounces
and deferrals — and signed Twilio status callbacks, a few undelivered.
Deterministic (a fixed random seed), so the same demo comes up every time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from local.apigw import mint_token

TENANT = "demo"
# Mailgun's own example key (mailgun-php's webhook test); any key works locally.
MAILGUN_SIGNING_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
TWILIO_AUTH_TOKEN = "demo-twilio-auth-token"
MESSAGES = 240
SCHOOLS = ["district", "lincoln-high", "roosevelt-middle", "jefferson-elementary"]
SENDERS = [{"id": "admin", "name": "Administrator, System"}, {"id": "dmatthews", "name": "Matthews, Dexter"},
           {"id": "kclark", "name": "Clark, Kim"}]
CATEGORIES = ["Behavior", "Missing Assignment", "Attendance", "Grades", "Announcement", "Emergency"]
FIRST = ["Ava", "Liam", "Noah", "Emma", "Mia", "Lucas", "Zoe", "Ethan", "Aria", "Mateo", "Chloe", "Leo",
         "Ivy", "Owen", "Nora", "Eli", "Ruby", "Jack", "Sofia", "Ben"]
LAST = ["Garcia", "Smith", "Nguyen", "Johnson", "Patel", "Brown", "Kim", "Lopez", "Wilson", "Martin"]
DAYS = 45


@dataclass(frozen=True)
class Demo:
    token: str
    sample_address: str
    messages: int
    webhooks: int


@dataclass(frozen=True)
class Person:
    person_id: str
    family_id: str | None
    role: str
    name: str
    email: str
    phone: str
    device: str


def _people(rng: random.Random) -> list[Person]:
    people = []
    for family in range(60):
        last = LAST[family % len(LAST)]
        family_id = f"F{1000 + family}"
        for n, role in enumerate(["student", "guardian"] + (["student"] if family % 3 == 0 else [])):
            first = rng.choice(FIRST)
            pid = f"P{2000 + family * 3 + n}"
            domain = "students.example.edu" if role == "student" else rng.choice(["example.com", "mail.example.org"])
            people.append(Person(pid, family_id, role, f"{last}, {first}", f"{first}.{last}{pid[1:]}@{domain}".lower(),
                                 f"+1555{2000000 + family * 3 + n:07d}", f"push-{pid.lower()}"))
    for n in range(20):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        pid = f"S{500 + n}"
        people.append(Person(pid, None, "staff", f"{last}, {first}", f"{first}.{last}{n}@staff.example.edu".lower(),
                             f"+1555{3000000 + n:07d}", f"push-{pid.lower()}"))
    return people


class _Client:
    def __init__(self, gateway: Any, token: str):
        self.gateway, self.token = gateway, token

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             expect: tuple[int, ...] = (200, 201)) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else b""
        all_headers = {"content-type": "application/json", **(headers or {})}
        if self.token and not path.startswith("/v1/webhooks/"):
            all_headers["authorization"] = f"Bearer {self.token}"
        status, _, out = self.gateway.handle(method, path, all_headers, data)
        if status not in expect:
            raise RuntimeError(f"seeding failed: {method} {path} answered {status}: {out[:300]!r}")
        return json.loads(out or b"null")


def _mailgun(client: _Client, *, event: str, recipient: str, at: datetime, message_id: str | None = None,
             provider_message_id: str, subject: str, extra: dict[str, Any] | None = None) -> None:
    timestamp, token = str(int(time.time())), uuid.uuid4().hex + uuid.uuid4().hex[:18]
    signature = hmac.new(MAILGUN_SIGNING_KEY.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    data: dict[str, Any] = {
        "id": uuid.uuid4().hex[:22], "event": event, "timestamp": at.timestamp(), "recipient": recipient,
        "log-level": "info", "message": {"headers": {"message-id": f"<{provider_message_id}>", "subject": subject,
                                                      "from": "District <noreply@mg.example.edu>"}},
        "user-variables": {"message_id": message_id} if message_id else {},
        **(extra or {}),
    }
    client.call("POST", f"/v1/webhooks/mailgun/{TENANT}",
                {"signature": {"timestamp": timestamp, "token": token, "signature": signature}, "event-data": data})


def _twilio(client: _Client, base_url: str, params: dict[str, str]) -> None:
    from msglog.providers.twilio import signature

    path = f"/v1/webhooks/twilio/{TENANT}"
    status, _, out = client.gateway.handle("POST", path, {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": signature(TWILIO_AUTH_TOKEN, base_url + path, list(params.items()))},
        urlencode(params).encode())
    if status != 200:
        raise RuntimeError(f"seeding failed: POST {path} answered {status}: {out[:300]!r}")


_FAILURES = [
    ("failed", {"severity": "permanent", "reason": "bounce", "delivery-status": {
        "code": 550, "message": "5.1.1 The email account that you tried to reach does not exist."}}),
    ("failed", {"severity": "permanent", "reason": "suppress-bounce", "delivery-status": {
        "code": 605, "description": "Not delivering to previously bounced address"}}),
    ("failed", {"severity": "temporary", "reason": "generic", "delivery-status": {
        "code": 452, "message": "4.2.2 The email account that you tried to reach is over quota."}}),
]


def _lifecycle(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """What Mailgun reports for one recipient, in order."""
    roll = rng.random()
    if roll < 0.05:
        return [("accepted", {}), _FAILURES[0]]
    if roll < 0.08:
        return [("accepted", {}), _FAILURES[1]]
    if roll < 0.12:
        return [("accepted", {}), _FAILURES[2], ("delivered", {})]
    steps: list[tuple[str, dict[str, Any]]] = [("accepted", {}), ("delivered", {})]
    if roll < 0.55:
        steps.append(("opened", {}))
    if roll < 0.25:
        steps.append(("clicked", {"url": "https://portal.example.edu/grades"}))
    if roll > 0.995:
        steps.append(("complained", {}))
    return steps


def run(gateway: Any, base_url: str, messages: int = MESSAGES, seed: int = 20261123) -> Demo:
    rng = random.Random(seed)
    token = mint_token({"sub": "demo-admin", "name": "Administrator, System", "tenant_id": TENANT,
                        "rights": ["admin"], "org_units": ["*"]})
    client = _Client(gateway, token)
    client.call("PATCH", "/v1/tenant", {"time_zone": "America/Chicago", "alert_email": "ops@example.edu"})
    client.call("PUT", "/v1/providers/mailgun", {"signing_key": MAILGUN_SIGNING_KEY})
    client.call("PUT", "/v1/providers/twilio", {"auth_token": TWILIO_AUTH_TOKEN})
    people = _people(rng)
    families = [p for p in people if p.role != "staff"]
    staff = [p for p in people if p.role == "staff"]
    start = datetime.now(UTC) - timedelta(days=DAYS)
    webhooks = 0
    for n in range(messages):
        channel = "push" if n % 10 == 9 else "sms" if n % 10 in (3, 6, 8) else "email"  # 6 : 3 : 1
        category = rng.choice(CATEGORIES)
        audience = rng.sample(staff, 3) if category == "Announcement" and n % 2 else rng.sample(families, rng.randint(1, 4))
        sent_at = start + timedelta(seconds=DAYS * 86400 * n / messages + rng.randint(0, 3000))
        subject = f"{category}: {rng.choice(['Weekly update', 'Reminder', 'Notice', 'Action needed'])}"
        pmids = {p.person_id: f"{uuid.UUID(int=rng.getrandbits(128)).hex[:20]}@mg.example.edu" if channel == "email"
                 else f"SM{uuid.UUID(int=rng.getrandbits(128)).hex}" for p in audience}
        early = channel == "email" and n % 25 == 7  # Mailgun reports before the back end records
        if early:
            for p in audience:
                _mailgun(client, event="accepted", recipient=p.email, at=sent_at, provider_message_id=pmids[p.person_id],
                         subject=subject)
                webhooks += 1
        message = {
            "channel": channel, "category": category, "org_unit": rng.choice(SCHOOLS),
            "sender": rng.choice(SENDERS), "subject": subject, "created_at": sent_at.isoformat(),
            "provider": {"email": "mailgun", "sms": "twilio", "push": None}[channel],
            "campaign": f"{category} {sent_at:%B %Y}", "lists": [rng.choice(["All families", "Grade 9", "Staff"])],
            "body": {"text": f"Dear {{{{recipient.name}}}}, {subject.lower()} from {{{{school.name}}}}.",
                     "html": f"<p>Dear {{{{recipient.name}}}},</p><p>{subject}.</p>" if channel == "email" else None},
            "recipients": [{
                "address": {"email": p.email, "sms": p.phone, "push": p.device}[channel],
                "person_id": p.person_id, "family_id": p.family_id, "role": p.role, "name": p.name,
                "fields": {"recipient.name": p.name.split(", ")[-1], "school.name": "Lincoln High"},
                **({"provider_message_id": pmids[p.person_id]} if channel != "push" else {}),
            } for p in audience],
        }
        message_id = client.call("POST", "/v1/messages", message,
                                 headers={"idempotency-key": f"demo-{seed}-{n}"})["message_id"]
        if channel == "sms":
            for p in audience:
                final = {"MessageStatus": "delivered"} if rng.random() > 0.08 else {
                    "MessageStatus": "undelivered", "ErrorCode": rng.choice(["30003", "30005", "30006"])}
                for status in ({"MessageStatus": "sent"}, final):
                    _twilio(client, base_url, {"MessageSid": pmids[p.person_id], "To": p.phone,
                                               "From": "+15005550006", "AccountSid": "ACdemo", **status})
                    webhooks += 1
        if channel != "email":
            continue
        for p in audience:
            at = sent_at
            for event, extra in _lifecycle(rng):
                if early and event == "accepted":
                    continue
                at += timedelta(seconds=rng.randint(2, 4000))
                _mailgun(client, event=event, recipient=p.email, at=at, message_id=message_id,
                         provider_message_id=pmids[p.person_id], subject=subject, extra=extra)
                webhooks += 1
    return Demo(token=token, sample_address=families[0].email, messages=messages, webhooks=webhooks)
