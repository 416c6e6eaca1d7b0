"""Request bodies as pydantic models: validated by the handlers, described in the OpenAPI document."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from msglog import policy
from msglog.fields import Instant
from msglog.providers import strip_angle_brackets

Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^#\s]+$")]
Text = Annotated[str, Field(max_length=1000)]
Channel = Literal["email", "sms", "push"]
Role = Literal["student", "guardian", "staff"]
MessageStatus = Literal["scheduled", "sent", "error", "canceled"]
Provider = Literal["mailgun", "sendgrid", "ses", "postmark", "twilio"]


# Merge-field values: what DynamoDB can store (38 significant digits, |x| < 1e126), bounded in size.
def _storable(number: float) -> float:
    if number and abs(number) < 1e-128:  # DynamoDB's smallest magnitude is 1e-130
        raise ValueError("is too close to zero to store; send 0 or a string")
    return number


FieldValue = Annotated[str, Field(max_length=1000)] | Annotated[int, Field(gt=-10**38, lt=10**38)] | \
    Annotated[float, Field(allow_inf_nan=False, gt=-1e125, lt=1e125), AfterValidator(_storable)] | bool | None
ProviderMessageId = Annotated[str, BeforeValidator(strip_angle_brackets),
                              Field(min_length=1, max_length=256, pattern=r"^[^#\s]+$")]
MAX_RECIPIENTS_PER_REQUEST = 1000
# Over 100 KB a body goes to S3 (msglog.bodies). 1 MB is ten times where Gmail clips a message; JSON-escaped,
# it keeps the request and the detail's answer within Lambda's 6 MB payload (which binds before API Gateway's 10 MB).
MAX_BODY_BYTES = 1_000_000


class Strict(BaseModel):
    # defer_build: a model's validator is built when first used, so each function's cold start pays
    # only for the bodies it reads (~20 ms less import for all of them).
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class SenderIn(Strict):
    id: Id | None = None
    name: Text | None = None


class BodyIn(Strict):
    text: str | None = None
    html: str | None = None

    @model_validator(mode="after")
    def _fits(self) -> BodyIn:
        if len((self.text or "").encode()) + len((self.html or "").encode()) > MAX_BODY_BYTES:
            raise ValueError(f"text and html together must be at most {MAX_BODY_BYTES} bytes")
        return self


class RecipientIn(Strict):
    address: Annotated[str, Field(min_length=1, max_length=320)]
    person_id: Id | None = None
    family_id: Id | None = None
    role: Role | None = None
    name: Text | None = None
    fields: Annotated[dict[Annotated[str, Field(min_length=1, max_length=128)], FieldValue],
                      Field(max_length=100)] | None = None
    provider_message_id: ProviderMessageId | None = None


class MessageIn(Strict):
    channel: Channel
    category: Text | None = None
    org_unit: Id | None = None
    sender: SenderIn | None = None
    subject: Annotated[str, Field(max_length=998)] | None = None
    body: BodyIn | None = None
    provider: Provider | None = None
    created_at: Instant | None = None
    scheduled_at: Instant | None = None
    schedule_id: Id | None = None
    campaign: Text | None = None
    lists: Annotated[list[Text], Field(max_length=100)] | None = None
    status: MessageStatus = "sent"
    recipients: Annotated[list[RecipientIn], Field(max_length=MAX_RECIPIENTS_PER_REQUEST)] = []


class MessageChange(Strict):
    """PATCH /v1/messages/{id}: a scheduled message goes out, is canceled, or moves (msglog.lifecycle)."""

    status: Literal["queued", "sent", "canceled"] | None = None
    scheduled_at: Instant | None = None


class RecipientsIn(Strict):
    recipients: Annotated[list[RecipientIn], Field(min_length=1, max_length=MAX_RECIPIENTS_PER_REQUEST)]


class SuppressionIn(Strict):
    reason: Literal["bounce", "complaint", "invalid", "validate", "manual"] = "manual"
    note: Annotated[str, Field(max_length=1000)] | None = None


def _each(normalise: Callable[[str], str]) -> Callable[[list[str]], list[str]]:
    """Normalise every item of a list, keeping the first of any repeats (ValueError: the item's)."""
    def check(values: list[str]) -> list[str]:
        return list(dict.fromkeys(normalise(value) for value in values))
    return check


class LoggingPolicy(Strict):
    """What the tenant's logs leave out (msglog.policy): each list replaces the one before."""

    internal_domains: Annotated[list[Annotated[str, Field(max_length=255)]], Field(max_length=policy.MAX_DOMAINS),
                                AfterValidator(_each(policy.domain))] = []
    ignore_addresses: Annotated[list[Annotated[str, Field(max_length=254)]], Field(max_length=policy.MAX_ADDRESSES),
                                AfterValidator(_each(policy.address))] = []
    ignore_subject_patterns: Annotated[
        list[Annotated[str, Field(max_length=policy.MAX_PATTERN_CHARS)]], Field(max_length=policy.MAX_PATTERNS),
        AfterValidator(_each(policy.pattern))] = []


class TenantPatch(Strict):
    name: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    retention_months: Annotated[int, Field(ge=1, le=120)] | None = None
    privacy_mode: bool | None = None
    log_retention_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    sms_stuck_minutes: Annotated[int, Field(ge=1, le=10080)] | None = None
    time_zone: str | None = None
    alert_email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    logging_policy: LoggingPolicy | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, zone: str | None) -> str | None:
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError("is not an IANA time zone such as America/Chicago") from None
        return zone


class Gateway(Strict):
    name: Annotated[str, Field(min_length=1, max_length=120)] | None = Field(
        None, description="the gateway name shown in the logs (default: the one given before, else the provider)")


class Rotation(Gateway):
    keep_previous: bool = Field(False, description="keep the current credentials valid beside the new ones (rotation)")

    def missing(self) -> list[str]:
        """The webhook credentials not given: all of them may be left out when `api` is given, none otherwise."""
        webhook = WEBHOOK_FIELDS[type(self).__name__]
        absent = [name for name in webhook if getattr(self, name) is None]
        return [] if len(absent) == len(webhook) and getattr(self, "api", None) is not None else absent


Secret = Annotated[str, Field(min_length=8, max_length=256, pattern=r"^[^\s]+$")]


class MailgunApi(Strict):
    """Mailgun's API (Events, suppressions): a private API key, the sending domain and its region."""

    api_key: Secret
    domain: Annotated[str, Field(min_length=3, max_length=253, pattern=r"^[A-Za-z0-9.-]+$")]
    region: Literal["us", "eu"] = Field("us", description="us: api.mailgun.net; eu: api.eu.mailgun.net")


class SendgridApi(Strict):
    """SendGrid's v3 API key (Email Activity needs its add-on; suppressions)."""

    api_key: Secret


class PostmarkApi(Strict):
    """The Postmark server's API token (X-Postmark-Server-Token)."""

    server_token: Secret
    message_stream: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")] | None = Field(
        None, description="the message stream whose suppressions are asked and reset (default: outbound)")


class TwilioApi(Strict):
    """The Twilio account SID and its auth token (HTTP Basic)."""

    account_sid: Annotated[str, Field(pattern=r"^AC[0-9a-fA-F]{32}$")]
    auth_token: Secret


class MailgunCredentials(Rotation):
    signing_key: Annotated[str, Field(min_length=8, max_length=256)] | None = None
    api: MailgunApi | None = Field(None, description="for refresh and recovery (Mailgun's Events API)")


class SendgridCredentials(Rotation):
    public_key: Annotated[str, Field(min_length=16, max_length=4096)] | None = None
    api: SendgridApi | None = Field(None, description="for refresh and recovery (SendGrid's Email Activity API)")

    @field_validator("public_key")
    @classmethod
    def _base64_der(cls, key: str | None) -> str | None:
        try:
            if key is not None:
                base64.b64decode(key, validate=True)
        except ValueError:
            raise ValueError("must be the base64 DER public key SendGrid shows") from None
        return key


class TwilioCredentials(Rotation):
    auth_token: Annotated[str, Field(min_length=8, max_length=256)] | None = None
    api: TwilioApi | None = Field(None, description="for refresh and recovery (Twilio's Message resource)")


class PostmarkCredentials(Rotation):
    username: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    password: Annotated[str, Field(min_length=8, max_length=256)] | None = None
    api: PostmarkApi | None = Field(None, description="for refresh and recovery (Postmark's messages API)")


# Each provider's webhook credentials: required unless the body gives `api` alone.
WEBHOOK_FIELDS = {"MailgunCredentials": ("signing_key",), "SendgridCredentials": ("public_key",),
                  "TwilioCredentials": ("auth_token",), "PostmarkCredentials": ("username", "password")}


TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")


class SesCredentials(Gateway):
    topic_arns: Annotated[list[str], Field(min_length=1, max_length=20)]
    api: dict[str, object] | None = Field(None, description="not taken: SES has no events API")

    @field_validator("api")
    @classmethod
    def _no_api(cls, api: object) -> None:
        if api is not None:
            raise ValueError("SES has no events API to refresh from; its account suppression list is read with "
                             "the service's own AWS role, so there is nothing to give")
        return None

    @field_validator("topic_arns")
    @classmethod
    def _arns(cls, arns: list[str]) -> list[str]:
        for arn in arns:
            if not TOPIC_ARN.match(arn):
                raise ValueError(f"{arn!r} is not an SNS topic ARN")
        return arns


CREDENTIALS: dict[str, type[Strict]] = {
    "mailgun": MailgunCredentials, "sendgrid": SendgridCredentials, "twilio": TwilioCredentials,
    "postmark": PostmarkCredentials, "ses": SesCredentials,
}


# ---------------------------------------------------------------- the SaaS's own log records
Entity = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^#\s]+$",
                              description="what the record is about: family:12, student:7, staff:3, user:ann")]
Details = Annotated[dict[Annotated[str, Field(min_length=1, max_length=100)], FieldValue], Field(max_length=50)]
Ip = Annotated[str, Field(max_length=45, pattern=r"^[0-9A-Fa-f:.]+$")]


class ActorIn(Strict):
    id: Id | None = None
    name: Text | None = None
    email: Annotated[str, Field(max_length=320)] | None = None


class RecordIn(Strict):
    id: Id | None = Field(None, description="your id for this record: a retry with the same id and `at` is stored once")
    at: Instant | None = Field(None, validate_default=True,
                               description="when it happened (default: now); needed with `id`")
    ip: Ip | None = None
    details: Details | None = None

    @field_validator("at")
    @classmethod
    def _id_needs_time(cls, at: datetime | None, info: ValidationInfo) -> datetime | None:
        if at is None and info.data.get("id") is not None:
            raise ValueError("is needed with `id`, so that a retry maps onto the same record")
        return at


class ActivityIn(RecordIn):
    """Activity (actions of families in the portal) and audit (staff and system changes) records."""

    actor: ActorIn | None = None
    action: Annotated[str, Field(min_length=1, max_length=200)]
    entity: Entity | None = None
    org_unit: Id | None = None


class PanelIn(RecordIn):
    actor: ActorIn | None = None
    url: Annotated[str, Field(min_length=1, max_length=2000)]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    status: Annotated[int, Field(ge=100, le=599)] | None = None
    user_agent: Annotated[str, Field(max_length=500)] | None = None


class UserIn(ActorIn):
    id: Id  # the login log keeps each user's last success and last failure


class LoginIn(RecordIn):
    user: UserIn
    status: Literal["success", "failed"]
    user_agent: Annotated[str, Field(max_length=500)] | None = None
    country: Text | None = None
    state: Text | None = None
    city: Text | None = None



class TransactionIn(RecordIn):
    """An account transaction (seed 002): a package bought or a top-up processed."""

    type: Literal["package", "top-up"]
    channel: Channel | None = None
    credits: Annotated[int, Field(ge=0, le=10**9)] | None = Field(None, description="messages the transaction buys")
    amount: Annotated[str, Field(pattern=r"^-?\d{1,12}(\.\d{1,4})?$")] | None = Field(
        None, description="money, as a decimal string (no rounding)")
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    description: Text | None = None
    actor: ActorIn | None = None
