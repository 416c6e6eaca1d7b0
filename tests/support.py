"""Test helpers: a client for the in-process gateway, tokens, and signed provider webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.apigw import mint_token

# Copied from ../shared/vectors (public provider payloads and SDK test vectors, each with its source).
VECTORS = Path(__file__).resolve().parent / "vectors"
MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"  # mailgun-php's test key (vectors/mailgun.json)
STATUS_WRITER = frozenset({"StatusFunction"})  # template.yaml: the StatusChanges queue's function


def reset_function_state() -> None:
    """What a fresh Lambda container would not have: cached settings, keys, clients, connections."""
    from msglog import arrivals, aws, config, cursor, models, tenants, webhooks

    for module in (config, arrivals, aws, tenants, cursor, webhooks, models):
        module.reset()


def free_port() -> int:
    """A port nothing listens on now: for a stack a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def all_pages(api: Any, path: str, auth: Any = "default") -> tuple[list[dict[str, Any]], int]:
    """Every page of the list at `path` (which has a query already): its rows and the items examined."""
    items, cursor, examined = [], None, 0
    while True:
        reply = api.get(path + (f"&cursor={cursor}" if cursor else ""), auth=auth)
        assert reply.status == 200, reply.json
        items += reply.json["items"]
        examined += reply.json["examined"]
        if not (cursor := reply.json["next_cursor"]):
            return items, examined


def token(tenant: str = "acme", rights: tuple[str, ...] | list[str] = ("admin",), org_units: tuple[str, ...] = ("*",),
          sub: str = "u-admin", name: str = "Admin, Ada") -> str:
    return mint_token({"sub": sub, "name": name, "tenant_id": tenant, "rights": list(rights),
                       "org_units": list(org_units)})


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None

    @property
    def fields(self) -> list[str]:
        """The fields a problem+json answer names."""
        return [e["field"] for e in (self.json or {}).get("errors", [])]


@dataclass
class Api:
    gateway: Any
    output: io.StringIO
    default_token: str = field(default_factory=token)
    settle: bool = True  # after each call that may queue status changes, deliver them (False: see them queued)
    _status_pump: Any = None

    def call(self, method: str, path: str, body: Any = None, *, auth: str | None = "default",
             headers: dict[str, str] | None = None, raw: bytes | None = None,
             content_type: str = "application/json") -> Reply:
        all_headers = {"content-type": content_type, "host": "api.example.test", **(headers or {})}
        if auth == "default":
            auth = self.default_token
        if auth:
            all_headers["authorization"] = f"Bearer {auth}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        status, out_headers, out = self.gateway.handle(method, path, all_headers, data)
        if method != "GET" and self.settle:
            self.settle_statuses()
        return Reply(status, out_headers, out)

    def settle_statuses(self) -> int:
        """Deliver the status changes a call queued (msglog.status_writer), as Lambda would within a second
        or so: a test reads what a user would see once they are written. How many messages it took."""
        from local.queues import Pump

        if self._status_pump is None:
            self._status_pump = Pump(self.gateway.runtime, functions=STATUS_WRITER)
        return self._status_pump.drain()

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, body, **kw)

    def setup_tenant(self, tenant: str = "acme", signing_key: str = MAILGUN_KEY) -> None:
        reply = self.call("PUT", "/v1/providers/mailgun", {"signing_key": signing_key},
                          auth=token(tenant))
        assert reply.status == 200, reply.raw

    def record(self, tenant: str = "acme", rights: tuple[str, ...] = ("messages:write",), **message: Any) -> str:
        message.setdefault("channel", "email")
        message.setdefault("recipients", [{"address": "pat@example.com"}])
        reply = self.post(
            "/v1/messages", message, auth=token(tenant, rights, sub=message.get("sender", {}).get("id", "u1"))
        )
        assert reply.status == 201, reply.raw
        return reply.json["message_id"]

    def pump(self) -> int:
        """Deliver the queued messages (export jobs, status changes) to their functions until the queues are empty, as
        Lambda's SQS event sources would (local/queues.py); how many deliveries that took."""
        from local.queues import Pump

        return Pump(self.gateway.runtime).drain()

    def mailgun(self, event_data: dict[str, Any], tenant: str = "acme", key: str = MAILGUN_KEY,
                **signature: Any) -> Reply:
        return self.post(f"/v1/webhooks/mailgun/{tenant}", mailgun_payload(event_data, key, **signature), auth=None)


def mailgun_signature(key: str, timestamp: str | None = None, token_: str | None = None) -> dict[str, str]:
    timestamp = timestamp or str(int(time.time()))
    token_ = token_ or uuid.uuid4().hex + uuid.uuid4().hex[:18]
    digest = hmac.new(key.encode(), (timestamp + token_).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token_, "signature": digest}


def mailgun_payload(event_data: dict[str, Any], key: str = MAILGUN_KEY, **signature: Any) -> dict[str, Any]:
    return {"signature": mailgun_signature(key, **signature), "event-data": event_data}


def mailgun_event(event: str, recipient: str = "pat@example.com", *, message_id: str | None = None,
                  provider_message_id: str | None = None, at: float | None = None, event_id: str | None = None,
                  subject: str = "Hello", **extra: Any) -> dict[str, Any]:
    headers: dict[str, str] = {"subject": subject}
    if provider_message_id:
        headers["message-id"] = f"<{provider_message_id}>"
    return {
        "id": event_id or uuid.uuid4().hex[:22], "event": event, "timestamp": at or time.time(),
        "recipient": recipient, "message": {"headers": headers},
        "user-variables": {"message_id": message_id} if message_id else {}, **extra,
    }


def vectors(name: str) -> dict[str, Any]:
    return json.loads((VECTORS / f"{name}.json").read_text())


class Faults:
    """DynamoDB errors as AWS answers them, injected where moto answers: a faulted request is never
    applied, and botocore retries it as it would in Lambda.

    `fail("PutItem", times=3)` makes the next three PutItem requests fail with throttling;
    `code=` picks another error (`fields=` adds to its body, as DynamoDB's CancellationReasons), `after=n`
    lets n requests through first. `calls` counts the
    requests per operation; `keys` lists the (operation, pk, sk) of the items DynamoDB requests name
    (one item's, and each a BatchGetItem reads or a BatchWriteItem writes).
    """

    def __init__(self, monkeypatch: Any) -> None:
        import botocore.retries.standard
        from moto.core.botocore_stubber import BotocoreStubber

        # Retries still happen, without botocore's exponential sleeps.
        monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
        self.plan: dict[str, list[tuple[str, dict[str, Any]] | None]] = {}
        self.calls: dict[str, int] = {}
        self.keys: list[tuple[str, str, str]] = []
        original = BotocoreStubber.__call__
        faults = self

        def stub(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
            if self.enabled:
                injected = faults._answer(event_name, request)
                if injected is not None:
                    return injected
            return original(self, event_name, request, **kwargs)

        monkeypatch.setattr(BotocoreStubber, "__call__", stub)

    def fail(self, operation: str, times: int = 1, code: str = "ProvisionedThroughputExceededException",
             after: int = 0, fields: dict[str, Any] | None = None) -> None:
        self.plan.setdefault(operation, []).extend([None] * after + [(code, fields or {})] * times)

    def _answer(self, event_name: str, request: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        _, service, operation = event_name.split(".", 2)  # before-send.<service>.<Operation>
        self.calls[operation] = self.calls.get(operation, 0) + 1
        if service == "dynamodb" and request.body:
            body = json.loads(request.body)
            named = [body.get("Key") or {}]
            for asked in body.get("RequestItems", {}).values():  # BatchWriteItem: a list; BatchGetItem: Keys
                named += asked.get("Keys", []) if isinstance(asked, dict) else [
                    write.get("PutRequest", {}).get("Item") or write.get("DeleteRequest", {}).get("Key") or {}
                    for write in asked]
            self.keys += [(operation, key["pk"]["S"], key["sk"]["S"]) for key in named if "pk" in key and "sk" in key]
        queue = self.plan.get(operation)
        planned = queue.pop(0) if queue else None
        if planned is None:
            return None
        code, fields = planned
        if service == "s3":
            body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
            return AWSResponse(request.url, 503 if code == "SlowDown" else 500, {"content-type": "application/xml"},
                               _Raw(body))
        if service == "sns":  # the query protocol: an XML error document
            body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected</Message></Error>"
                    "<RequestId>injected</RequestId></ErrorResponse>").encode()
            return AWSResponse(request.url, 400, {"content-type": "text/xml"}, _Raw(body))
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected",
                           **fields}).encode()
        return AWSResponse(request.url, 400, {"content-type": "application/x-amz-json-1.0"}, _Raw(body))


class _Raw:
    def __init__(self, data: bytes):
        self.data = data

    def stream(self, **_: Any):
        yield self.data


# The only actions a role may grant on `Resource: "*"`: those the AWS Service Authorization Reference lists
# with no resource type ("If there is no value for this column, you must specify all resources ("*")").
NO_RESOURCE_TYPES = {
    # Amazon Simple Email Service v2, actions table (docs.aws.amazon.com/service-authorization/latest/
    # reference/list_amazonsimpleemailservicev2.html): the account-level suppression list
    "ses:GetSuppressedDestination": "list_amazonsimpleemailservicev2.html#GetSuppressedDestination",
    "ses:DeleteSuppressedDestination": "list_amazonsimpleemailservicev2.html#DeleteSuppressedDestination",
}


def wildcard_refusals(statement: dict) -> list[str]:
    """The actions of a statement on `Resource: "*"` that have a resource type (they must name it)."""
    targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    return [action for action in actions if action not in NO_RESOURCE_TYPES] if "*" in targets else []


IAM_ACTIONS = {"s3:ListObjectsV2": "s3:ListBucket",  # API operations whose IAM action is named otherwise
               "s3:CreateMultipartUpload": "s3:PutObject", "s3:UploadPart": "s3:PutObject",
               "s3:CompleteMultipartUpload": "s3:PutObject", "s3:DeleteObjects": "s3:DeleteObject",
               "sqs:SendMessageBatch": "sqs:SendMessage"}
TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def iam_actions(event_name: str, request: Any) -> list[tuple[str, str]]:
    """The IAM actions a botocore request needs, each with its resource kind ("table" | "index" | "")."""
    _, service, operation = event_name.split(".", 2)
    if operation == "TransactWriteItems":  # IAM authorises each write of a transaction
        return [(f"dynamodb:{TRANSACT_ACTIONS[next(iter(write))]}", "table")
                for write in json.loads(request.body)["TransactItems"]]
    resource = ""
    if service == "dynamodb":
        body = json.loads(request.body or b"{}")
        resource = "index" if body.get("IndexName") else "table"
    iam_service = {"secrets-manager": "secretsmanager", "sesv2": "ses"}.get(service, service)
    action = f"{iam_service}:{operation}"
    return [(IAM_ACTIONS.get(action, action), resource)]


class AwsCalls:
    """Records which function (the one the local runtime is invoking) made which AWS call, on which
    resource — to hold against the function's IAM policy in template.yaml."""

    def __init__(self, monkeypatch: Any) -> None:
        import os

        from moto.core.botocore_stubber import BotocoreStubber

        self.calls: set[tuple[str, str, str]] = set()  # (function, "service:Action", "table" | "index" | "")
        original = BotocoreStubber.__call__
        calls = self.calls

        def record(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
            function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
            if self.enabled and function:
                calls.update((function, action, resource) for action, resource in iam_actions(event_name, request))
            return original(self, event_name, request, **kwargs)

        monkeypatch.setattr(BotocoreStubber, "__call__", record)

    def by_function(self) -> dict[str, set[tuple[str, str]]]:
        out: dict[str, set[tuple[str, str]]] = {}
        for function, action, resource in self.calls:
            out.setdefault(function, set()).add((action, resource))
        return out


def sendgrid_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, base64.b64encode(public).decode()


def sendgrid_post(api, private, events, tenant="acme"):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    body = (json.dumps(events) + "\r\n").encode()  # SendGrid's bodies end so; the signature covers it
    timestamp = str(int(time.time()))
    signature = base64.b64encode(private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
    return api.post(f"/v1/webhooks/sendgrid/{tenant}", raw=body, auth=None, headers={
        "X-Twilio-Email-Event-Webhook-Signature": signature, "X-Twilio-Email-Event-Webhook-Timestamp": timestamp})


def sendgrid_message(api, count: int, event_ids: str = "d") -> tuple[Any, str, list[dict[str, Any]]]:
    """A tenant with SendGrid credentials and a message to `count` recipients (p0@example.com, ...),
    and a `delivered` event for each: (private key, message id, events)."""
    private, public = sendgrid_key()
    api.call("PUT", "/v1/providers/sendgrid", {"public_key": public})
    message_id = api.record(recipients=[{"address": f"p{n}@example.com", "provider_message_id": f"sg-{n}"}
                                        for n in range(count)])
    events = [{"email": f"p{n}@example.com", "event": "delivered", "timestamp": 1_790_000_000 + n,
               "sg_message_id": f"sg-{n}.filter0001", "sg_event_id": f"{event_ids}-{n}"} for n in range(count)]
    return private, message_id, events
