"""Request bodies as pydantic models: validated by the handlers, described in the OpenAPI document."""

from __future__ import annotations

import base64
import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from msglog.clock import in_range
from msglog.providers import strip_angle_brackets

Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^#\s]+$")]
Text = Annotated[str, Field(max_length=1000)]
Channel = Literal["email", "sms", "push"]
Role = Literal["student", "guardian", "staff"]
MessageStatus = Literal["scheduled", "sent", "error", "canceled"]
Provider = Literal["mailgun", "sendgrid", "ses", "postmark", "twilio"]
Instant = Annotated[AwareDatetime, AfterValidator(in_range)]
# Merge-field values: what DynamoDB can store (38 significant digits, |x| < 1e126), bounded in size.
FieldValue = Annotated[str, Field(max_length=1000)] | Annotated[int, Field(gt=-10**38, lt=10**38)] | \
    Annotated[float, Field(allow_inf_nan=False, gt=-1e125, lt=1e125)] | bool | None
ProviderMessageId = Annotated[str, BeforeValidator(strip_angle_brackets),
                              Field(min_length=1, max_length=256, pattern=r"^[^#\s]+$")]
MAX_RECIPIENTS_PER_REQUEST = 1000
MAX_BODY_BYTES = 300_000  # below DynamoDB's 400 KB item limit, with room for the item's keys


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


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


class RecipientsIn(Strict):
    recipients: Annotated[list[RecipientIn], Field(min_length=1, max_length=MAX_RECIPIENTS_PER_REQUEST)]


class SuppressionIn(Strict):
    reason: Literal["bounce", "complaint", "invalid", "validate", "manual"] = "manual"
    note: Annotated[str, Field(max_length=1000)] | None = None


class TenantPatch(Strict):
    retention_months: Annotated[int, Field(ge=1, le=120)] | None = None
    privacy_mode: bool | None = None
    time_zone: str | None = None
    alert_email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, zone: str | None) -> str | None:
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError("is not an IANA time zone such as America/Chicago") from None
        return zone


class Rotation(Strict):
    keep_previous: bool = Field(False, description="keep the current credentials valid beside the new ones (rotation)")


class MailgunCredentials(Rotation):
    signing_key: Annotated[str, Field(min_length=8, max_length=256)]


class SendgridCredentials(Rotation):
    public_key: Annotated[str, Field(min_length=16, max_length=4096)]

    @field_validator("public_key")
    @classmethod
    def _base64_der(cls, key: str) -> str:
        try:
            base64.b64decode(key, validate=True)
        except ValueError:
            raise ValueError("must be the base64 DER public key SendGrid shows") from None
        return key


class TwilioCredentials(Rotation):
    auth_token: Annotated[str, Field(min_length=8, max_length=256)]


class PostmarkCredentials(Rotation):
    username: Annotated[str, Field(min_length=1, max_length=256)]
    password: Annotated[str, Field(min_length=8, max_length=256)]


TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")


class SesCredentials(Strict):
    topic_arns: Annotated[list[str], Field(min_length=1, max_length=20)]

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
