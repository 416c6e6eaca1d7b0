"""Demo data for `make run`: a school district's tenant with a few weeks of messages.

Everything goes through the real handlers (the local gateway), as a SaaS back end and the
providers would send it, each by its own batch path: settings, SendGrid, Mailgun and Twilio
credentials; messages over e-mail, SMS and push, each one request with all its recipients;
SendGrid's events posted as SendGrid posts them, signed arrays of many events (deliveries,
opens, clicks, bounces, deferrals); Mailgun's one event per request, for the messages whose
events arrive before the message is recorded; Twilio's status callbacks one by one, as Twilio
sends them, a few undelivered.
Deterministic (a fixed random seed), so the same demo comes up every time.

`make run` loads it in a background thread while the API already serves: `Progress` counts what
has been posted so far, and `stop` ends the loading between two requests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from local import fake_providers
from local.apigw import mint_token
from local.fake_providers import FakeProviders

TENANT = "demo"
# Mailgun's own example key (mailgun-php's webhook test); any key works locally.
MAILGUN_SIGNING_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
TWILIO_AUTH_TOKEN = "demo-twilio-auth-token"
# The demo's SendGrid signing key: a fixed P-256 private number, so the same public key comes up every time.
SENDGRID_PRIVATE_NUMBER = 20261123
SENDGRID_BATCH = 250  # events per SendGrid post (SendGrid batches by time and size; it allows up to 5000)
MESSAGES = 240
SCHOOLS = ["district", "lincoln-high", "roosevelt-middle", "jefferson-elementary"]
SENDERS = [{"id": "admin", "name": "Administrator, System"}, {"id": "dmatthews", "name": "Matthews, Dexter"},
           {"id": "kclark", "name": "Clark, Kim"}]
CATEGORIES = ["Behavior", "Missing Assignment", "Attendance", "Grades", "Announcement", "Emergency"]
FIRST = ["Ava", "Liam", "Noah", "Emma", "Mia", "Lucas", "Zoe", "Ethan", "Aria", "Mateo", "Chloe", "Leo",
         "Ivy", "Owen", "Nora", "Eli", "Ruby", "Jack", "Sofia", "Ben"]
LAST = ["Garcia", "Smith", "Nguyen", "Johnson", "Patel", "Brown", "Kim", "Lopez", "Wilson", "Martin"]
DAYS = 45
LOST_ONE_IN = 4  # with the fake providers: of every 4th Mailgun message, no webhook after `accepted` arrives


@dataclass(frozen=True)
class Demo:
    token: str
    sample_address: str
    messages: int
    webhooks: int  # provider events posted (SendGrid's arrays counted event by event)
    requests: int = 0  # webhook requests that carried them
    # With the fake providers: Mailgun events the fake knows whose webhooks were never posted
    # (message id, address, event): a refresh of the message brings each in
    lost_webhooks: tuple[tuple[str, str, str], ...] = ()


class Stopped(Exception):
    """The stack is stopping: the demo stops loading between two requests."""


@dataclass
class Progress:
    """What has been loaded so far; read by another thread while the demo loads."""

    total: int
    messages: int = 0
    webhooks: int = 0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, *, messages: int = 0, webhooks: int = 0, requests: int = 0) -> None:
        with self.lock:
            self.messages += messages
            self.webhooks += webhooks
            self.requests += requests

    def line(self) -> str:
        with self.lock:
            return (f"demo: {self.messages}/{self.total} messages, {self.webhooks} webhook events "
                    f"({self.requests} webhook requests) so far")


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
    """The gateway as the demo's callers reach it; counts what it posted and stops when told. With the fake
    providers (`make run FAKE_PROVIDERS=1`) it also tells the fake Mailgun every event Mailgun "sent"."""

    def __init__(self, gateway: Any, token: str, progress: Progress, stop: threading.Event,
                 fakes: FakeProviders | None = None):
        self.gateway, self.token, self.progress, self.stop, self.fakes = gateway, token, progress, stop, fakes
        self.mailgun_messages = 0  # Mailgun's messages (their `accepted` came early)…
        self.lost: list[tuple[str, str, str]] = []  # …and the events never posted: (message id, address, event)

    def raw(self, method: str, path: str, headers: dict[str, str], body: bytes,
            expect: tuple[int, ...] = (200, 201)) -> bytes:
        if self.stop.is_set():
            raise Stopped
        status, _, out = self.gateway.handle(method, path, headers, body)
        if status not in expect:
            if self.stop.is_set():  # the runtime closed under the request
                raise Stopped
            raise RuntimeError(f"seeding failed: {method} {path} answered {status}: {out[:300]!r}")
        return out

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
        all_headers = {"content-type": "application/json", **(headers or {})}
        if not path.startswith("/v1/webhooks/"):
            all_headers["authorization"] = f"Bearer {self.token}"
        out = self.raw(method, path, all_headers, json.dumps(body).encode() if body is not None else b"")
        return json.loads(out or b"null")


def _mailgun(client: _Client, *, event: str, recipient: str, at: datetime, provider_message_id: str,
             subject: str, message_id: str | None = None, lost: bool = False) -> None:
    """One Mailgun event, one signed request, as Mailgun posts them."""
    timestamp, token = str(int(time.time())), uuid.uuid4().hex + uuid.uuid4().hex[:18]
    signature = hmac.new(MAILGUN_SIGNING_KEY.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    data: dict[str, Any] = {
        "id": uuid.uuid4().hex[:22], "event": event, "timestamp": at.timestamp(), "recipient": recipient,
        "log-level": "info", "message": {"headers": {"message-id": f"<{provider_message_id}>", "subject": subject,
                                                      "from": "District <noreply@mg.example.edu>"}},
    }
    if client.fakes:
        client.fakes.mailgun.add(data)
        if lost:
            client.lost.append((message_id or "", recipient, event))
            return  # its webhook never came: Mailgun knows it, a refresh (or a recovery) brings it in
    client.call("POST", f"/v1/webhooks/mailgun/{TENANT}",
                {"signature": {"timestamp": timestamp, "token": token, "signature": signature}, "event-data": data})
    client.progress.add(webhooks=1, requests=1)


def _twilio(client: _Client, base_url: str, params: dict[str, str]) -> None:
    """One Twilio status callback, signed over the public URL, as Twilio sends each."""
    from msglog.providers.twilio import signature

    path = f"/v1/webhooks/twilio/{TENANT}"
    client.raw(
        "POST",
        path,
        {
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": signature(TWILIO_AUTH_TOKEN, base_url + path, list(params.items())),
        },
        urlencode(params).encode(),
        expect=(200,),
    )
    client.progress.add(webhooks=1, requests=1)


def sendgrid_key() -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(SENDGRID_PRIVATE_NUMBER, ec.SECP256R1())


def sendgrid_public_key() -> str:
    """The tenant's SendGrid credential: base64 DER of the demo key's public half."""
    public = sendgrid_key().public_key().public_bytes(serialization.Encoding.DER,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(public).decode()


class _SendGrid:
    """SendGrid's Event Webhook: events gathered and posted as one signed JSON array per batch."""

    def __init__(self, client: _Client):
        self.client, self.key = client, sendgrid_key()
        self.pending: list[dict[str, Any]] = []

    def add(self, events: list[dict[str, Any]]) -> None:
        self.pending += events
        if len(self.pending) >= SENDGRID_BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        body = (json.dumps(self.pending) + "\r\n").encode()  # SendGrid's bodies end so; the signature covers it
        timestamp = str(int(time.time()))
        signed = base64.b64encode(self.key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
        self.client.raw("POST", f"/v1/webhooks/sendgrid/{TENANT}", {
            "content-type": "application/json", "x-twilio-email-event-webhook-signature": signed,
            "x-twilio-email-event-webhook-timestamp": timestamp}, body, expect=(200,))
        self.client.progress.add(webhooks=len(self.pending), requests=1)
        self.pending = []


# What SendGrid reports for one recipient, in order: (event, extra fields).
_FAILURES = [
    ("bounce", {"type": "bounce", "status": "5.1.1",
                "reason": "550 5.1.1 The email account that you tried to reach does not exist."}),
    ("dropped", {"reason": "Bounced Address", "status": "5.0.0"}),
    ("deferred", {"response": "452 4.2.2 The email account that you tried to reach is over quota.",
                  "attempt": "1"}),
]


def _lifecycle(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """What the e-mail provider reports for one recipient, in order (SendGrid's event names)."""
    roll = rng.random()
    if roll < 0.05:
        return [("processed", {}), _FAILURES[0]]
    if roll < 0.08:
        return [("processed", {}), _FAILURES[1]]
    if roll < 0.12:
        return [("processed", {}), _FAILURES[2], ("delivered", {})]
    steps: list[tuple[str, dict[str, Any]]] = [("processed", {}), ("delivered", {})]
    if roll < 0.55:
        steps.append(("open", {}))
    if roll < 0.25:
        steps.append(("click", {"url": "https://portal.example.edu/grades"}))
    if roll > 0.995:
        steps.append(("spamreport", {}))
    return steps


_MAILGUN_NAMES = {"processed": "accepted", "delivered": "delivered", "open": "opened", "click": "clicked"}


@dataclass
class _Plan:
    """One demo message: what the back end records, and who its provider reports on."""

    n: int
    channel: str
    sent_at: datetime
    subject: str
    audience: list[Person]
    pmids: dict[str, str]
    early: bool  # the provider reports before the back end records (Mailgun, in the demo)
    body: dict[str, Any]


def _plan(rng: random.Random, n: int, messages: int, start: datetime, families: list[Person],
          staff: list[Person]) -> _Plan:
    channel = "push" if n % 10 == 9 else "sms" if n % 10 in (3, 6, 8) else "email"  # 6 : 3 : 1
    category = rng.choice(CATEGORIES)
    audience = rng.sample(staff, 3) if category == "Announcement" and n % 2 else rng.sample(families, rng.randint(1, 4))
    sent_at = start + timedelta(seconds=DAYS * 86400 * n / messages + rng.randint(0, 3000))
    subject = f"{category}: {rng.choice(['Weekly update', 'Reminder', 'Notice', 'Action needed'])}"
    pmids = {p.person_id: f"{uuid.UUID(int=rng.getrandbits(128)).hex[:20]}@mail.example.edu" if channel == "email"
             else f"SM{uuid.UUID(int=rng.getrandbits(128)).hex}" for p in audience}
    early = channel == "email" and n % 25 == 7
    provider = {"email": "mailgun" if early else "sendgrid", "sms": "twilio", "push": None}[channel]
    body = {
        "channel": channel, "category": category, "org_unit": rng.choice(SCHOOLS),
        "sender": rng.choice(SENDERS), "subject": subject, "created_at": sent_at.isoformat(), "provider": provider,
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
    return _Plan(n, channel, sent_at, subject, audience, pmids, early, body)


def _sms_callbacks(client: _Client, rng: random.Random, base_url: str, plan: _Plan) -> None:
    for p in plan.audience:
        final = {"MessageStatus": "delivered"} if rng.random() > 0.08 else {
            "MessageStatus": "undelivered", "ErrorCode": rng.choice(["30003", "30005", "30006"])}
        for status in ({"MessageStatus": "sent"}, final):
            _twilio(client, base_url, {"MessageSid": plan.pmids[p.person_id], "To": p.phone,
                                       "From": "+15005550006", "AccountSid": "ACdemo", **status})


def _early_mailgun(client: _Client, plan: _Plan) -> None:
    """Mailgun's `accepted` for each recipient, arriving before the message is recorded (kept, linked later)."""
    for p in plan.audience:
        _mailgun(client, event="accepted", recipient=p.email, at=plan.sent_at,
                 provider_message_id=plan.pmids[p.person_id], subject=plan.subject)


def _email_events(client: _Client, rng: random.Random, plan: _Plan, message_id: str, sendgrid: _SendGrid) -> None:
    """The rest of each recipient's lifecycle: Mailgun's (one request each) or SendGrid's (into the batch)."""
    lost = False
    if plan.early and client.fakes:
        lost = client.mailgun_messages % LOST_ONE_IN == 0
        client.mailgun_messages += 1
    for p in plan.audience:
        at = plan.sent_at
        for event, extra in _lifecycle(rng):
            at += timedelta(seconds=rng.randint(2, 4000))
            if not plan.early:
                sendgrid.add([{"email": p.email, "event": event, "timestamp": int(at.timestamp()),
                               "sg_message_id": f"{plan.pmids[p.person_id]}.filter0001",
                               "sg_event_id": uuid.UUID(int=rng.getrandbits(128)).hex[:22],
                               "message_id": message_id, **extra}])
            elif event in _MAILGUN_NAMES and event != "processed":  # its `accepted` came early
                _mailgun(client, event=_MAILGUN_NAMES[event], recipient=p.email, at=at,
                         provider_message_id=plan.pmids[p.person_id], subject=plan.subject, message_id=message_id,
                         lost=lost)


def _configure(client: _Client) -> None:
    client.call("PATCH", "/v1/tenant", {"time_zone": "America/Chicago", "alert_email": "ops@example.edu"})
    client.call("PUT", "/v1/providers/sendgrid", {"public_key": sendgrid_public_key()})
    client.call("PUT", "/v1/providers/mailgun", {"signing_key": MAILGUN_SIGNING_KEY})
    client.call("PUT", "/v1/providers/twilio", {"auth_token": TWILIO_AUTH_TOKEN})
    if client.fakes:  # the fake providers' APIs: refresh, recovery, their suppression lists
        for provider, credentials in fake_providers.CREDENTIALS.items():
            client.call("PUT", f"/v1/providers/{provider}", {"api": credentials})


def demo_token() -> str:
    """The demo tenant's admin token (known before the demo loads: the banner prints it first)."""
    return mint_token({"sub": "demo-admin", "name": "Administrator, System", "tenant_id": TENANT,
                       "rights": ["admin"], "org_units": ["*"]})


def sample_address(seed: int = 20261123) -> str:
    """A family member's address the demo writes to, for the banner's example."""
    return next(p.email for p in _people(random.Random(seed)) if p.role != "staff")


def run(gateway: Any, base_url: str, messages: int = MESSAGES, seed: int = 20261123, *,
        token: str | None = None, progress: Progress | None = None, stop: threading.Event | None = None,
        fakes: FakeProviders | None = None) -> Demo:
    """Load the demo; raises Stopped if `stop` is set before it is all loaded."""
    rng = random.Random(seed)
    token = token or demo_token()
    progress = progress or Progress(messages)
    client = _Client(gateway, token, progress, stop or threading.Event(), fakes)
    _configure(client)
    people = _people(rng)
    families = [p for p in people if p.role != "staff"]
    staff = [p for p in people if p.role == "staff"]
    start = datetime.now(UTC) - timedelta(days=DAYS)
    sendgrid = _SendGrid(client)
    for n in range(messages):
        plan = _plan(rng, n, messages, start, families, staff)
        if plan.early:
            _early_mailgun(client, plan)
        message_id = client.call("POST", "/v1/messages", plan.body,
                                 headers={"idempotency-key": f"demo-{seed}-{n}"})["message_id"]
        progress.add(messages=1)
        if plan.channel == "sms":
            _sms_callbacks(client, rng, base_url, plan)
        elif plan.channel == "email":
            _email_events(client, rng, plan, message_id, sendgrid)
    sendgrid.flush()
    return Demo(token=token, sample_address=families[0].email, messages=progress.messages,
                webhooks=progress.webhooks, requests=progress.requests, lost_webhooks=tuple(client.lost))
