"""GET/PATCH /v1/tenant and PUT /v1/providers/{provider}: admin only, credentials kept encrypted."""

from __future__ import annotations

import boto3

from local.provision import physical_name
from tests.support import MAILGUN_KEY, token


def test_settings_start_with_defaults(api):
    reply = api.get("/v1/tenant")
    assert reply.status == 200
    assert reply.json | {"providers": {}} == reply.json
    assert (reply.json["retention_months"], reply.json["privacy_mode"], reply.json["time_zone"]) == (24, False, "UTC")


def test_patch_changes_only_what_is_given(api):
    reply = api.call("PATCH", "/v1/tenant", {"time_zone": "America/Chicago", "retention_months": 36})
    assert reply.status == 200
    again = api.get("/v1/tenant").json
    assert (again["time_zone"], again["retention_months"], again["privacy_mode"]) == ("America/Chicago", 36, False)
    assert again["updated_by"] == "u-admin"


def test_bad_settings_name_the_field(api):
    for body, field in [({"time_zone": "Mars/Olympus"}, "time_zone"), ({"retention_months": 0}, "retention_months"),
                        ({"alert_email": "nope"}, "alert_email"), ({"colour": "red"}, "colour"),
                        ({"privacy_mode": "perhaps"}, "privacy_mode")]:
        reply = api.call("PATCH", "/v1/tenant", body)
        assert reply.status == 400, body
        assert reply.headers["content-type"] == "application/problem+json"
        assert field in reply.fields, (body, reply.json)
    assert api.get("/v1/tenant").json["retention_months"] == 24  # nothing half-written


def test_settings_need_admin(api):
    for method in ("GET", "PATCH"):
        reply = api.call(method, "/v1/tenant", {}, auth=token(rights=["logs:sent", "messages:write"]))
        assert reply.status == 403
        assert reply.headers["content-type"] == "application/problem+json"
    assert api.call("PUT", "/v1/providers/mailgun", {"signing_key": MAILGUN_KEY},
                    auth=token(rights=["logs:provider"])).status == 403


def test_provider_credentials_are_encrypted_at_rest(api):
    reply = api.call("PUT", "/v1/providers/mailgun", {"signing_key": MAILGUN_KEY})
    assert reply.status == 200 and reply.json["keys"] == 1
    assert MAILGUN_KEY not in reply.raw.decode()
    items = boto3.client("dynamodb").query(
        TableName=physical_name("Table"), KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "T#acme"}})["Items"]
    stored = [i for i in items if i["sk"]["S"] == "PROVIDER#mailgun"]
    assert stored and MAILGUN_KEY.encode() not in stored[0]["ciphertext"]["B"]
    assert MAILGUN_KEY not in str(items)
    assert api.get("/v1/tenant").json["providers"]["mailgun"]["keys"] == 1


def test_rotation_keeps_the_previous_key(api):
    api.call("PUT", "/v1/providers/mailgun", {"signing_key": "key-old-000000"})
    reply = api.call("PUT", "/v1/providers/mailgun", {"signing_key": "key-new-111111", "keep_previous": True})
    assert reply.json["keys"] == 2
    reply = api.call("PUT", "/v1/providers/mailgun", {"signing_key": "key-newest-2222"})
    assert reply.json["keys"] == 1


def test_bad_credentials_name_the_field(api):
    assert "signing_key" in api.call("PUT", "/v1/providers/mailgun", {"signing_key": "short"}).fields
    assert "signing_key" in api.call("PUT", "/v1/providers/mailgun", {}).fields
    assert "topic_arns[0]" in api.call("PUT", "/v1/providers/ses", {"topic_arns": ["arn:nope"]}).fields or \
        "topic_arns" in api.call("PUT", "/v1/providers/ses", {"topic_arns": ["arn:nope"]}).fields
    reply = api.call("PUT", "/v1/providers/pigeon", {"signing_key": MAILGUN_KEY})
    assert reply.status == 400 and "provider" in reply.fields


def test_secrets_never_reach_the_logs(api):
    api.call("PUT", "/v1/providers/mailgun", {"signing_key": MAILGUN_KEY})
    api.call("PUT", "/v1/providers/mailgun", {"signing_key": "short"})
    assert MAILGUN_KEY not in api.output.getvalue()
