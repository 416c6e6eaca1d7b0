"""`make run FAKE_PROVIDERS=1`: every provider's fake API (local/fakes) started beside the stack, the
functions' base URLs pointed at them (`<PROVIDER>_API_URL`, and `AWS_ENDPOINT_URL_SESV2` for SES's account
suppression list), and the demo tenant's API credentials for them: refresh, recovery and the providers'
suppression lists then work locally. The fake Mailgun knows every Mailgun event the demo sends, including
those whose webhooks the demo never posts (local.seed: a refresh brings them in).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local.fakes import FakeApi
from local.fakes.mailgun import FakeMailgun
from local.fakes.postmark import FakePostmark
from local.fakes.sendgrid import FakeSendgrid
from local.fakes.ses import FakeSesV2
from local.fakes.twilio import FakeTwilio

MAILGUN_DOMAIN = "mg.example.edu"  # the demo's sending domain (local.seed's From)
# The demo tenant's API credentials, as PUT /v1/providers/{provider} takes them under `api` (SES has none)
CREDENTIALS: dict[str, dict[str, Any]] = {
    "mailgun": {"api_key": "key-demo-mailgun-api", "domain": MAILGUN_DOMAIN},
    "sendgrid": {"api_key": "SG.demo-sendgrid-api-key"},
    "postmark": {"server_token": "demo-postmark-server-token"},
    "twilio": {"account_sid": "AC" + "d" * 32, "auth_token": "demo-twilio-api-token"},
}


@dataclass
class FakeProviders:
    apis: dict[str, FakeApi]

    @classmethod
    def start(cls) -> FakeProviders:
        return cls({
            "mailgun": FakeMailgun(CREDENTIALS["mailgun"]["api_key"], MAILGUN_DOMAIN).start(),
            "sendgrid": FakeSendgrid(CREDENTIALS["sendgrid"]["api_key"]).start(),
            "postmark": FakePostmark(CREDENTIALS["postmark"]["server_token"]).start(),
            "twilio": FakeTwilio(CREDENTIALS["twilio"]["account_sid"], CREDENTIALS["twilio"]["auth_token"]).start(),
            "ses": FakeSesV2().start(),
        })

    def environment(self) -> dict[str, str]:
        """The functions' settings that send their calls here."""
        return {("AWS_ENDPOINT_URL_SESV2" if name == "ses" else f"{name.upper()}_API_URL"): api.url
                for name, api in self.apis.items()}

    @property
    def mailgun(self) -> FakeMailgun:
        api = self.apis["mailgun"]
        assert isinstance(api, FakeMailgun)
        return api

    def stop(self) -> None:
        for api in self.apis.values():
            api.stop()
