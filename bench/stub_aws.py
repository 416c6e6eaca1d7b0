"""A tiny local AWS for cold starts: answers a function's first requests without moto.

A cold-start process must not import moto (it would be measured), so it is pointed at this
server instead, which runs in the benchmark's own process. DynamoDB keeps items in a dict (Put,
BatchWrite, Get, BatchGet; Query answers nothing; updates and conditions are accepted, not applied); KMS "decrypts"
every ciphertext to the sample tenant's Mailgun key, so the sample webhook verifies; Secrets
Manager gives a cursor key; S3 lists no parked requests; SNS subscribes an alert address.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

# mailgun-php's test key: the demo tenant's, which signed events/webhooks-mailgun.json.
SAMPLE_MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
EMPTY_LISTING = (b'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                 b"<Name>parked</Name><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>"
                 b"</ListBucketResult>")


class StubDynamoDB:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(key: dict[str, Any]) -> tuple[str, str]:
        return key["pk"]["S"], key["sk"]["S"]

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        pk, sk = self._key(key)
        if sk.startswith("PROVIDER#"):  # every tenant has credentials: KMS below decrypts them
            return {"pk": {"S": pk}, "sk": {"S": sk}, "type": {"S": "provider"}, "provider": {"S": sk[9:]},
                    "ciphertext": {"B": base64.b64encode(b"stub").decode()}, "key_count": {"N": "1"},
                    "updated_at": {"S": "2026-01-01T00:00:00.000000Z"}, "updated_by": {"S": "bench"}}
        return self.items.get((pk, sk))

    def answer(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if operation == "PutItem":
                self.items[self._key(body["Item"])] = body["Item"]
                return {}
            if operation == "GetItem":
                item = self._get(body["Key"])
                return {"Item": item} if item else {}
            if operation == "BatchWriteItem":
                for requests in body["RequestItems"].values():
                    for request in requests:
                        if "PutRequest" in request:
                            self.items[self._key(request["PutRequest"]["Item"])] = request["PutRequest"]["Item"]
                return {"UnprocessedItems": {}}
            if operation == "BatchGetItem":
                return {"Responses": {table: [i for i in (self._get(k) for k in request["Keys"]) if i]
                                      for table, request in body["RequestItems"].items()}, "UnprocessedKeys": {}}
            if operation in ("Query", "Scan"):
                return {"Items": [], "Count": 0, "ScannedCount": 0}
            if operation == "UpdateItem":  # accepted; the item as it was (pynamodb asks for ALL_NEW)
                return {"Attributes": {**(self._get(body["Key"]) or {}), **body["Key"]}}
            return {}  # DeleteItem: accepted


def _kms(operation: str) -> dict[str, Any]:
    if operation == "Decrypt":
        plaintext = json.dumps({"versions": [{"signing_key": SAMPLE_MAILGUN_KEY}]}).encode()
        return {"Plaintext": base64.b64encode(plaintext).decode(), "KeyId": "stub"}
    return {"CiphertextBlob": base64.b64encode(b"stub").decode(), "KeyId": "stub"}


def _secrets(operation: str) -> dict[str, Any]:
    return {"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:stub", "Name": "stub",
            "SecretString": "s" * 64, "VersionId": "stub"}


def _sns(action: str) -> bytes:
    """Onboarding an alert address creates its topic and subscribes the address: each answers its ARN;
    anything else, nothing."""
    ns = "http://sns.amazonaws.com/doc/2010-03-31/"
    arn = {
        "CreateTopic": "<TopicArn>arn:aws:sns:us-east-1:123456789012:alerts-bench</TopicArn>",
        "Subscribe": "<SubscriptionArn>arn:aws:sns:us-east-1:123456789012:alerts-bench:bench</SubscriptionArn>",
    }.get(action, "")
    return (f'<{action}Response xmlns="{ns}"><{action}Result>{arn}</{action}Result>'
            f"<ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></{action}Response>").encode()


class StubAws:
    """Serve on 127.0.0.1 (a free port) until `stop()`."""

    def __init__(self) -> None:
        self.dynamodb = StubDynamoDB()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else each answer waits for a delayed ACK (~40 ms), which AWS never does

            def _reply(self, status: int, content_type: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                data = self.rfile.read(length)
                if "x-www-form-urlencoded" in (self.headers.get("content-type") or ""):  # SNS (query protocol)
                    self._reply(200, "text/xml", _sns(parse_qs(data.decode()).get("Action", [""])[0]))
                    return
                body = json.loads(data or b"{}")
                service, _, operation = (self.headers.get("x-amz-target") or "").partition(".")
                if service.startswith("DynamoDB"):
                    answer = stub.dynamodb.answer(operation, body)
                elif service == "TrentService":
                    answer = _kms(operation)
                elif service == "secretsmanager":
                    answer = _secrets(operation)
                else:
                    answer = {}
                self._reply(200, "application/x-amz-json-1.0", json.dumps(answer).encode())

            def do_GET(self) -> None:
                self._reply(200, "application/xml", EMPTY_LISTING)

            def do_PUT(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                self._reply(200, "application/xml", b"")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> StubAws:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
