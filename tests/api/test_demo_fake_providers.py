"""`make run FAKE_PROVIDERS=1` (local.fake_providers): the demo tenant has API credentials for every fake
provider, the functions call the fakes, and the fake Mailgun knows events whose webhooks the demo never
posted: refreshing such a message brings it to its true status."""

from __future__ import annotations

import pytest

from local import seed
from local.fake_providers import FakeProviders
from local.stack import function_extras


@pytest.fixture
def fakes():
    started = FakeProviders.start()
    yield started
    started.stop()


def test_the_stack_hands_the_fakes_urls_to_the_functions(fakes):
    extras = function_extras(3000, {"PATH": "/usr/bin", **fakes.environment()})
    assert {name: extras[name] for name in fakes.environment()} == fakes.environment()
    assert set(fakes.environment()) == {"MAILGUN_API_URL", "SENDGRID_API_URL", "POSTMARK_API_URL", "TWILIO_API_URL",
                                        "AWS_ENDPOINT_URL_SESV2"}


def test_a_demo_message_whose_webhooks_never_came_is_refreshed_to_its_true_status(api_with, fakes):
    api = api_with(**fakes.environment())
    demo = seed.run(api.gateway, "https://api.example.test", messages=24, fakes=fakes)
    assert demo.lost_webhooks, "the demo's first Mailgun message has its webhooks held back"
    admin = seed.demo_token()
    message_id = demo.lost_webhooks[0][0]
    before = {r["address"]: r["status"] for r in api.get(f"/v1/messages/{message_id}", auth=admin).json["recipients"]}
    refreshed = api.post(f"/v1/messages/{message_id}/refresh", auth=admin)
    assert refreshed.status == 200, refreshed.raw
    assert any(r["changed"] for r in refreshed.json["recipients"])
    api.settle_statuses()
    after = {r["address"]: r["status"] for r in api.get(f"/v1/messages/{message_id}", auth=admin).json["recipients"]}
    lost = {(address, event) for mid, address, event in demo.lost_webhooks if mid == message_id}
    assert {address for address, _ in lost} <= set(after) and after != before
    tenant = api.get("/v1/tenant", auth=admin).json
    assert all(tenant["providers"][name]["api"]["set"] for name in ("mailgun", "sendgrid", "postmark", "twilio"))


def test_make_invoke_and_recover_reach_the_fakes_the_running_stack_started(fakes):
    """`make recover` runs in another shell: the stack's state file hands it the fakes' URLs; the shell's win."""
    from local.invoke import shell_and_stack

    info = {"provider_env": fakes.environment()}
    extras = function_extras(3000, shell_and_stack({"PATH": "/usr/bin"}, info))
    assert extras["MAILGUN_API_URL"] == fakes.apis["mailgun"].url
    assert extras["AWS_ENDPOINT_URL_SESV2"] == fakes.apis["ses"].url
    mine = function_extras(3000, shell_and_stack({"MAILGUN_API_URL": "http://127.0.0.1:9"}, info))
    assert mine["MAILGUN_API_URL"] == "http://127.0.0.1:9"
