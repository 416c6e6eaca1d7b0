"""Fixtures of the tests that call the providers' APIs: fake APIs on 127.0.0.1 (local/fakes), and the
service pointed at them with the tenant's API credentials."""

from __future__ import annotations

import pytest

from local.fakes.mailgun import FakeMailgun
from local.fakes.postmark import FakePostmark
from local.fakes.sendgrid import FakeSendgrid
from local.fakes.twilio import FakeTwilio

MG = {"api_key": "key-mailgun-private-0001", "domain": "mg.example.org"}
TWILIO = {"account_sid": "AC" + "a" * 32, "auth_token": "twilio-api-token-1"}


@pytest.fixture
def fakes():
    started = {"mailgun": FakeMailgun(MG["api_key"], MG["domain"]).start(),
               "sendgrid": FakeSendgrid("SG.sendgrid-api-key").start(),
               "postmark": FakePostmark("postmark-server-token").start(),
               "twilio": FakeTwilio(TWILIO["account_sid"], TWILIO["auth_token"]).start()}
    yield started
    for fake in started.values():
        fake.stop()


@pytest.fixture
def provider_api(api_with, fakes):
    """The service with each provider's API base URL pointing at its fake, and the tenant's API credentials."""
    api = api_with(**{f"{name.upper()}_API_URL": fake.url for name, fake in fakes.items()})
    api.setup_tenant("acme")
    for provider, credentials in [("mailgun", MG), ("sendgrid", {"api_key": "SG.sendgrid-api-key"}),
                                  ("postmark", {"server_token": "postmark-server-token"}), ("twilio", TWILIO)]:
        assert api.call("PUT", f"/v1/providers/{provider}", {"api": credentials}).status == 200
    return api
