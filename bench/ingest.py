"""Figures 2 and 3: webhook ingest through the real handler, and what each event costs DynamoDB.

A tenant with SendGrid and Mailgun credentials records messages of 1,000 recipients each
through the real API (person, family, role, name, two merge fields, a 40-character subject:
the data model's "typical" delivery). Then, timed, warm (each function has served a request):
  - ROUNDS times, each with its own message: one SendGrid POST of 1,000 `delivered` events, one
    per recipient, then the naive peer (bench.naive_peer) storing the same events again (its own
    event items; the same deliveries' status). The figure is the median round's ratio;
  - 1,000 Mailgun POSTs of one `delivered` event each, one per recipient of another message.
Each webhook run includes the status writer (StatusFunction) applying the changes its POSTs
queued, delivered as Lambda's SQS event source would (local.queues): its time, requests and units.
All through the local gateway to the real handler, against moto in server mode; every DynamoDB
request is counted by bench.meter and priced by bench.work.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bench.local_aws import LocalAws
from bench.meter import METER
from bench.naive_peer import NaivePeer
from bench.webhook_requests import MAILGUN_KEY, Request, SendgridSigner, mailgun_request, sendgrid_event
from bench.work import Work, measure

TENANT = "bench-ingest"
EVENTS = int(os.environ.get("BENCH_INGEST_EVENTS", "1000"))  # fewer: a quicker look while changing the path
SUBJECT = "Missing assignment: Algebra worksheet 4."  # 40 characters, as the data model's sizes assume
FIRST_NAMES = ["Ava", "Liam", "Noah", "Emma", "Mia", "Lucas", "Zoe", "Ethan", "Aria", "Mateo"]
LAST_NAMES = ["Garcia", "Smith", "Nguyen", "Johnson", "Patel", "Brown", "Kim", "Lopez", "Wilson", "Martin"]


@dataclass
class IngestRun:
    label: str
    events: int
    posts: int  # webhook requests (the peer: none, it is handed parsed events)
    seconds: float  # the POSTs, then writing the statuses they queued (the peer: its own writes)
    work: Work
    post_seconds: float = 0.0  # the POSTs alone
    status_batches: int = 0  # StatusFunction invocations (each up to 10 queue messages)
    queue_sends: int = 0  # SQS SendMessageBatch requests
    path_requests: int = 0  # DynamoDB requests of the POSTs alone (the webhook's path; the status writer's after)

    @property
    def provider(self) -> str:
        return self.label.split(":")[0]

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds

    @property
    def requests_per_event(self) -> float:
        return self.work.requests / self.events

    @property
    def path_requests_per_event(self) -> float:
        return self.path_requests / self.events

    @property
    def write_units_per_event(self) -> float:
        return self.work.write_units / self.events

    @property
    def read_units_per_event(self) -> float:
        return self.work.read_units / self.events

    @property
    def ms_per_post(self) -> float:
        return self.post_seconds * 1000 / self.posts if self.posts else 0.0

    @property
    def ms_per_status_batch(self) -> float:
        return (self.seconds - self.post_seconds) * 1000 / self.status_batches if self.status_batches else 0.0


# SendGrid POST then peer, each round with its own message: the machine's moods hit both alike
ROUNDS = int(os.environ.get("BENCH_INGEST_ROUNDS", "3"))
# Latency mode: each DynamoDB request waits this long before moto answers it. AWS publishes DynamoDB's latency as
# "single-digit millisecond" (Amazon DynamoDB Developer Guide, "What is Amazon DynamoDB?"; the DynamoDB FAQ);
# 4 ms is taken as a same-region GetItem/PutItem's median, for every request alike: a batch of 25 items takes
# longer in AWS, so the figure favours batching a little.
DYNAMODB_LATENCY = 0.004
# Single Mailgun POSTs: their per-event figures settle within a few hundred, and each takes the status
# writer's transaction (msglog.counts) on top of the POST: 300 keep `make bench` within its 10 minutes (500 ran
# it to 601 s on 2026-12-03, once the console's figure was added); every POST is alike, so the per-event
# figures are averages of identical work.
MAILGUN_EVENTS = min(EVENTS, 300)
VISIBILITY_SAMPLES = 20  # single Mailgun POSTs timed until the status writer has written what they queued


@dataclass
class IngestFigures:
    rounds: list[tuple[IngestRun, IngestRun]]  # (our SendGrid POST, the peer storing the same events), in order
    mailgun: IngestRun
    latency_rounds: list[tuple[IngestRun, IngestRun]] = field(default_factory=list)  # the same, DYNAMODB_LATENCY
    visible_ms: list[float] = field(default_factory=list)  # a single Mailgun POST answered -> its status written

    @staticmethod
    def median_of(rounds: list[tuple[IngestRun, IngestRun]]) -> tuple[IngestRun, IngestRun]:
        """The round whose ratio is the median of the rounds'."""
        return sorted(rounds, key=IngestFigures.ratio)[len(rounds) // 2]

    @staticmethod
    def ratio(pair: tuple[IngestRun, IngestRun]) -> float:
        return pair[0].events_per_second / pair[1].events_per_second

    @property
    def median(self) -> tuple[IngestRun, IngestRun]:
        return self.median_of(self.rounds)

    @property
    def sendgrid(self) -> IngestRun:
        return self.median[0]

    @property
    def peer(self) -> IngestRun:
        return self.median[1]


def _token(tenant: str) -> str:
    from local.apigw import mint_token

    return mint_token({"sub": "bench", "name": "Bench, Runner", "tenant_id": tenant,
                       "rights": ["admin", "messages:write"], "org_units": ["*"]})


def _call(aws: LocalAws, method: str, path: str, body: Any = None, token: str | None = None,
          request: Request | None = None) -> dict[str, Any]:
    if request is not None:
        path, headers, data = request.path, dict(request.headers), request.body
    else:
        headers, data = {"content-type": "application/json"}, json.dumps(body).encode()
    if token:
        headers["authorization"] = f"Bearer {token}"
    status, _, out = aws.gateway.handle(method, path, {"host": "api.bench.test", **headers}, data)
    if status >= 300:
        raise RuntimeError(f"{method} {path} answered {status}: {out[:500]!r}")
    return json.loads(out or b"null")


def _recipients(tag: str, count: int) -> list[dict[str, Any]]:
    out = []
    for n in range(count):
        first, last = FIRST_NAMES[n % 10], LAST_NAMES[n // 10 % 10]
        out.append({"address": f"{first}.{last}.{tag}{n:04d}@example.com".lower(), "person_id": f"P{tag}{n:05d}",
                    "family_id": f"F{tag}{n // 2:05d}", "role": "guardian", "name": f"{last}, {first}",
                    "fields": {"guardian.name": f"{first} {last}", "student.firstname": FIRST_NAMES[(n + 3) % 10]}})
    return out


def _record(aws: LocalAws, token: str, tag: str, count: int) -> tuple[str, list[str]]:
    recipients = _recipients(tag, count)
    answer = _call(aws, "POST", "/v1/messages", {
        "channel": "email", "category": "Missing Assignment", "org_unit": "lincoln-high",
        "sender": {"id": "dmatthews", "name": "Matthews, Dexter"}, "subject": SUBJECT, "provider": "sendgrid",
        "campaign": "Missing work", "body": {"text": "Dear guardian, a worksheet is missing."},
        "recipients": recipients}, token)
    return answer["message_id"], [r["address"] for r in recipients]


def _timed_posts(aws: LocalAws, label: str, events: int, requests: Iterable[Request]) -> tuple[IngestRun, list[Any]]:
    """The POSTs, then the status writer's batches for what they queued (all in the time and the counts)."""
    answers = []
    with METER.window() as window:
        start = time.perf_counter()
        for request in requests:
            answers.append(_call(aws, "POST", request.path, request=request))
        posted = time.perf_counter()
        path_requests = window.requests
        batches = aws.status_pump.invocations
        aws.status_pump.drain()
        seconds = time.perf_counter() - start
    run = IngestRun(label, events, len(answers), seconds, measure(window, aws.read_items), post_seconds=posted - start,
                    status_batches=aws.status_pump.invocations - batches, queue_sends=window.queue_sends,
                    path_requests=path_requests)
    return run, answers


def _stored(answers: list[dict[str, Any]]) -> int:
    return sum(a["outcomes"].get("LOG_OK", 0) for a in answers)


def run(aws: LocalAws) -> IngestFigures:
    token = _token(TENANT)
    signer = SendgridSigner()
    _call(aws, "PUT", "/v1/providers/sendgrid", {"public_key": signer.public_key}, token)
    _call(aws, "PUT", "/v1/providers/mailgun", {"signing_key": MAILGUN_KEY}, token)
    sendgrid_messages = [_record(aws, token, f"s{n}", EVENTS) for n in range(ROUNDS)]
    mailgun_message, mailgun_to = _record(aws, token, "m", MAILGUN_EVENTS + VISIBILITY_SAMPLES)
    warm_message, warm_to = _record(aws, token, "w", 10)
    at = time.time()

    # Warm: each path has served a request (imports done, clients and caches made), as in a busy container.
    _call(aws, "POST", "", request=signer.request(TENANT, [sendgrid_event(a, warm_message, at) for a in warm_to[:5]]))
    _call(aws, "POST", "", request=mailgun_request(TENANT, warm_to[5], warm_message, at, SUBJECT))
    aws.status_pump.drain()
    peer = NaivePeer(aws.table)
    peer.ingest(TENANT, [sendgrid_event(warm_to[6], warm_message, at)])

    rounds, latency_rounds = [], []
    for sendgrid_message, sendgrid_to in sendgrid_messages:
        rounds.append(_round(aws, signer, peer, sendgrid_message, sendgrid_to, at, "delivered"))
        with METER.latency(DYNAMODB_LATENCY):  # the same deliveries again, a status higher: the same work
            latency_rounds.append(_round(aws, signer, peer, sendgrid_message, sendgrid_to, at, "open"))
    # Signed as they are sent (a signature older than WEBHOOK_MAX_AGE_SECONDS is refused): an HMAC, microseconds.
    singles = (mailgun_request(TENANT, a, mailgun_message, at, SUBJECT) for a in mailgun_to[:MAILGUN_EVENTS])
    mailgun, more = _timed_posts(aws, f"Mailgun: {MAILGUN_EVENTS:,} POSTs of 1 event", MAILGUN_EVENTS, singles)
    if _stored(more) != MAILGUN_EVENTS:
        raise RuntimeError(f"not every event was stored: Mailgun {_stored(more)}")
    return IngestFigures(rounds, mailgun, latency_rounds,
                         _visibility(aws, mailgun_message, mailgun_to[MAILGUN_EVENTS:], at))


def _round(aws: LocalAws, signer: SendgridSigner, peer: NaivePeer, message: str, to: list[str], at: float,
           event: str) -> tuple[IngestRun, IngestRun]:
    """Our SendGrid POST of an `event` per recipient, then the peer storing the same events."""
    batch = signer.request(TENANT, [sendgrid_event(a, message, at, event) for a in to])
    sendgrid, answers = _timed_posts(aws, f"SendGrid: 1 POST of {EVENTS:,} events", EVENTS, [batch])
    if _stored(answers) != EVENTS:
        raise RuntimeError(f"not every event was stored: SendGrid {_stored(answers)}")
    # The peer stores the same events again: its own event items (built anew: event ids of their own, so they do
    # not overwrite ours), the same deliveries (same size, same indexes).
    events = [sendgrid_event(a, message, at, event) for a in to]
    with METER.window() as window:
        start = time.perf_counter()
        peer.ingest(TENANT, events)
        seconds = time.perf_counter() - start
    return sendgrid, IngestRun("naive peer: PutItem + UpdateItem per event", EVENTS, 0, seconds,
                               measure(window, aws.read_items), post_seconds=seconds)


def _visibility(aws: LocalAws, message: str, to: list[str], at: float) -> list[float]:
    """Per single Mailgun POST (an `opened`, each to a recipient of its own), ms from its answer until the
    status writer has written what it queued: the writer's own time here; in AWS the event source's pick-up
    from the queue comes on top."""
    out = []
    for address in to[:VISIBILITY_SAMPLES]:
        _call(aws, "POST", "", request=mailgun_request(TENANT, address, message, at + 1, SUBJECT, "opened"))
        answered = time.perf_counter()
        aws.status_pump.drain()
        out.append((time.perf_counter() - answered) * 1000)
    return out


def main() -> int:
    """`python -m bench ingest`: figures 2, 3 and 7 alone, printed (RESULTS.md is left as it is)."""
    from bench import figures, local_aws
    from bench.report import Report
    from local.template import functions

    METER.install()
    aws = local_aws.start()
    try:
        ingested = run(aws)
    finally:
        aws.stop()
    report = Report()
    figures.ingest(report, ingested)
    figures.costs(report, ingested, functions()["WebhooksFunction"].memory, functions()["StatusFunction"].memory)
    print(report.table())
    print("\n".join(f"- {cause}" for cause in report.causes))
    for _, section in report.sections:
        print(section)
    return 0
