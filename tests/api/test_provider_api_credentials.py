"""PUT /v1/providers/{provider} takes the credentials the service calls each provider's API with
(refresh, recovery): stored encrypted like the webhook credentials, replaced on rotation, never shown."""

from __future__ import annotations

import boto3

from local.provision import physical_name
from tests.support import MAILGUN_KEY, mailgun_event, token

MAILGUN_API = {"api_key": "key-mailgun-private-0001", "domain": "mg.example.org", "region": "eu"}
TWILIO_SID = "AC" + "0" * 31 + "1"


def _table_items(tenant: str = "acme") -> str:
    return str(boto3.client("dynamodb").query(
        TableName=physical_name("Table"), KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"T#{tenant}"}})["Items"])


def test_api_credentials_are_kept_encrypted_and_only_shown_as_set(api):
    api.setup_tenant("acme")  # the webhook's signing key first
    reply = api.call("PUT", "/v1/providers/mailgun", {"api": MAILGUN_API})
    assert reply.status == 200, reply.json
    assert reply.json["api"]["set"] is True and "key-mailgun-private-0001" not in reply.raw.decode()
    for provider, body in [("sendgrid", {"api": {"api_key": "SG.sendgrid-secret-key"}}),
                           ("postmark", {"api": {"server_token": "postmark-server-token-1"}}),
                           ("twilio", {"api": {"account_sid": TWILIO_SID, "auth_token": "twilio-api-token-1"}})]:
        assert api.call("PUT", f"/v1/providers/{provider}", body).status == 200, provider
    shown = api.get("/v1/tenant").json["providers"]
    assert shown["mailgun"]["keys"] == 1 and shown["mailgun"]["api"]["set"] is True  # the webhook key is kept
    assert {name for name, p in shown.items() if p.get("api", {}).get("set")} == {"mailgun", "sendgrid", "postmark",
                                                                                   "twilio"}
    everything = _table_items() + api.get("/v1/tenant").raw.decode() + api.output.getvalue()
    for secret in ("key-mailgun-private-0001", "mg.example.org", "SG.sendgrid-secret-key", "postmark-server-token-1",
                   "twilio-api-token-1"):
        assert secret not in everything
    # the webhook credentials still verify: giving API credentials did not replace them
    message_id = api.record()
    assert api.mailgun(mailgun_event("delivered", message_id=message_id), key=MAILGUN_KEY).status == 200
    actions = [row["action"] for row in api.get("/v1/audit?limit=50", auth=token(rights=["logs:audit"])).json["items"]]
    assert actions.count("provider.api_credentials_changed") == 4


def test_bad_api_credentials_name_the_field(api):
    assert api.call("PUT", "/v1/providers/mailgun", {"api": {**MAILGUN_API, "region": "mars"}}).fields == ["api.region"]
    assert api.call("PUT", "/v1/providers/mailgun", {"api": {"api_key": "key-mailgun-private-0001"}}).fields == [
        "api.domain"]
    assert api.call("PUT", "/v1/providers/twilio", {"api": {"account_sid": "nope", "auth_token": "twilio-token-1"}}
                    ).fields == ["api.account_sid"]
    ses = api.call("PUT", "/v1/providers/ses", {"topic_arns": ["arn:aws:sns:us-east-1:123456789012:ses"],
                                                "api": {"key": "x"}})
    assert ses.status == 400 and ses.fields == ["api"] and "no events API" in str(ses.json)
    assert api.call("PUT", "/v1/providers/postmark", {"username": "pm"}).fields == ["password"]
    assert api.get("/v1/tenant").json["providers"] == {}  # nothing half-written
