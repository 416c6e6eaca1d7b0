"""Fake Amazon SES v2 account-level suppression list (moto 5 has sesv2 but not this list), for boto3's
`sesv2` client pointed here with AWS_ENDPOINT_URL_SESV2.

Source: Amazon SES API v2 reference (docs.aws.amazon.com/ses/latest/APIReference-V2/),
GetSuppressedDestination `GET /v2/email/suppression/addresses/{EmailAddress}` → 200
`{"SuppressedDestination": {"EmailAddress", "Reason": "BOUNCE"|"COMPLAINT", "LastUpdateTime" (epoch
seconds), "Attributes": {"MessageId", "FeedbackId"}}}`; DeleteSuppressedDestination `DELETE` of the same
path → 200, empty body; PutSuppressedDestination `PUT /v2/email/suppression/addresses` with
`{"EmailAddress", "Reason"}` → 200. Errors are REST-JSON: the status (NotFoundException 404,
BadRequestException 400, TooManyRequestsException 429) with the `x-amzn-ErrorType` header and
`{"message"}`. Requests must be SigV4-signed (`Authorization: AWS4-HMAC-SHA256 …`); the signature itself
is not checked (the test credentials are moto's).
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import unquote

from local.fakes import Answer, FakeApi, Request

PREFIX = "/v2/email/suppression/addresses"
REASONS = ("BOUNCE", "COMPLAINT")


def _error(status: int, kind: str, message: str) -> Answer:
    return Answer(status, {"message": message}, {"x-amzn-ErrorType": kind})


class FakeSesV2(FakeApi):
    def __init__(self) -> None:
        super().__init__()
        self.suppressed: dict[str, dict[str, Any]] = {}  # lower-cased address -> SuppressedDestination

    def suppress(self, address: str, reason: str = "BOUNCE") -> None:
        self.suppressed[address.lower()] = {"EmailAddress": address, "Reason": reason,
                                            "LastUpdateTime": time.time(), "Attributes": {}}

    def route(self, request: Request) -> Answer:
        if not request.headers.get("authorization", "").startswith("AWS4-HMAC-SHA256 "):
            return _error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        if request.path == PREFIX and request.method == "PUT":
            return self._put(request.body)
        if not request.path.startswith(PREFIX + "/") or request.method not in ("GET", "DELETE"):
            return _error(404, "UnknownOperationException", "Unknown operation")
        address = unquote(request.path[len(PREFIX) + 1:])
        held = self.suppressed.get(address.lower())
        if held is None:
            return _error(404, "NotFoundException", f"Email address {address} does not exist on your suppression list.")
        if request.method == "DELETE":
            del self.suppressed[address.lower()]
            return Answer(200)
        return Answer(200, {"SuppressedDestination": held})

    def _put(self, body: bytes) -> Answer:
        try:
            fields = json.loads(body or b"{}")
        except ValueError:
            return _error(400, "BadRequestException", "The request body is not JSON")
        if not isinstance(fields.get("EmailAddress"), str) or fields.get("Reason") not in REASONS:
            return _error(400, "BadRequestException", "EmailAddress and Reason (BOUNCE or COMPLAINT) are required")
        self.suppress(fields["EmailAddress"], fields["Reason"])
        return Answer(200, {})
