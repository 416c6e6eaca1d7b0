"""`make run` as a user runs it: the stack in its own process, real HTTP, `make invoke`, Ctrl-C."""

from __future__ import annotations

import csv
import io
import json
import re
import signal
import subprocess
import time

import pytest
import requests

from local.fakes.mailgun import FakeMailgun
from local.template import ROOT
from tests import running_stack
from tests.support import MAILGUN_KEY, mailgun_event, mailgun_payload, token, vectors

pytestmark = pytest.mark.stack



@pytest.fixture(scope="module")
def mailgun_api():
    """Mailgun's API as the stack's refresh, recovery and suppression resets call it (a fake, local/fakes)."""
    fake = FakeMailgun("key-demo-mailgun-api-1", "mg.demo.example").start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def stack(mailgun_api):
    # The age check off from the shell, as to replay an official vector with an old timestamp.
    running = running_stack.start(40, WEBHOOK_MAX_AGE_SECONDS="0", MAILGUN_API_URL=mailgun_api.url)
    yield {"base": running.base, "port": running.port, "token": running.token, "banner": running.banner,
           "process": running.process, "env": running.env}
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait()


def auth(stack):
    return {"Authorization": f"Bearer {stack['token']}"}


def test_the_printed_curl_commands_work(stack):
    commands = re.findall(r"^\s+(curl .+)$", stack["banner"], re.M)
    assert len(commands) == 3
    for command in commands:
        out = subprocess.run(command, shell=True, env={**stack["env"], "TOKEN": stack["token"]},
                             capture_output=True, text=True, timeout=30, check=True).stdout
        assert "items" in json.loads(out), command


def test_demo_data_over_real_http(stack):
    messages = requests.get(f"{stack['base']}/v1/messages?limit=200", headers=auth(stack), timeout=10).json()
    assert len(messages["items"]) == 40
    assert {m["channel"] for m in messages["items"]} == {"email", "sms", "push"}
    events = requests.get(f"{stack['base']}/v1/events?limit=200", headers=auth(stack), timeout=10).json()
    assert {"delivered", "opened"} <= {e["event"] for e in events["items"]}
    sms = requests.get(f"{stack['base']}/v1/events?provider=twilio&limit=200", headers=auth(stack), timeout=10).json()
    assert {"sent", "delivered"} <= {e["event"] for e in sms["items"]}  # Twilio callbacks, signed over the local URL
    page = requests.get(f"{stack['base']}/v1/messages?limit=7", headers=auth(stack), timeout=10).json()
    follow = requests.get(f"{stack['base']}/v1/messages", params={"limit": 7, "cursor": page["next_cursor"]},
                          headers=auth(stack), timeout=10).json()
    assert not {m["message_id"] for m in page["items"]} & {m["message_id"] for m in follow["items"]}


def test_the_demo_loaded_behind_the_api_is_all_there(stack):
    summary = re.search(r"demo loaded in \d+ s: (\d+) messages, (\d+) webhook events", stack["banner"])
    assert summary, stack["banner"]
    messages, events = int(summary.group(1)), int(summary.group(2))
    assert messages == 40 and events > messages
    assert len(listed(stack, "/v1/messages")) == messages
    assert len(listed(stack, "/v1/events")) == events  # every event posted is stored and listed
    assert {e["provider"] for e in listed(stack, "/v1/events")} == {"sendgrid", "mailgun", "twilio"}


def listed(stack, path):
    """Every item of a list view, page after page."""
    items, cursor = [], None
    while True:
        page = requests.get(f"{stack['base']}{path}", params={"limit": 200, **({"cursor": cursor} if cursor else {})},
                            headers=auth(stack), timeout=30).json()
        items += page["items"]
        if not (cursor := page["next_cursor"]):
            return items


def test_gateway_answers_as_api_gateway_does(stack):
    base = stack["base"]
    assert requests.get(f"{base}/v1/health", timeout=10).status_code == 200
    unauthorized = requests.get(f"{base}/v1/messages", timeout=10)
    assert (unauthorized.status_code, unauthorized.json()) == (401, {"message": "Unauthorized"})
    assert requests.get(f"{base}/v1/nowhere", headers=auth(stack), timeout=10).status_code == 404
    preflight = requests.options(f"{base}/v1/messages", timeout=10, headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] in ("*", "https://app.example.com")
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()


def test_a_signed_webhook_over_real_http(stack):
    base = stack["base"]
    writer = {"Authorization": auth(stack)["Authorization"], "Idempotency-Key": "stack-test-1"}
    recorded = requests.post(f"{base}/v1/messages", headers=writer, timeout=10, json={
        "channel": "email", "subject": "Real HTTP", "recipients": [{"address": "http@example.com"}]}).json()
    reply = requests.post(f"{base}/v1/webhooks/mailgun/demo", timeout=10, json=mailgun_payload(
        mailgun_event("clicked", "http@example.com", message_id=recorded["message_id"]), key=MAILGUN_KEY))
    assert reply.status_code == 200 and reply.json()["outcomes"] == {"LOG_OK": 1}
    deadline = time.monotonic() + 60  # the status writer runs from the background poller, as Lambda runs it
    while [i["status"] for i in requests.get(f"{base}/v1/recipients/http@example.com/messages", headers=auth(stack),
                                             timeout=10).json()["items"]] != ["clicked"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_the_shells_webhook_age_wins_so_an_official_mailgun_vector_replays(stack):
    # Mailgun's docs event in its signed body, timestamp 2014: refused by the template's 300 s age check.
    composed = vectors("mailgun")["composed_webhook_bodies"]
    admin = {"Authorization": f"Bearer {token('stackvec')}"}
    assert requests.put(f"{stack['base']}/v1/providers/mailgun", headers=admin, timeout=10,
                        json={"signing_key": composed["signing_key"]}).status_code == 200
    reply = requests.post(f"{stack['base']}/v1/webhooks/mailgun/stackvec", json=composed["delivered"], timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.json()["received"] == 1


def test_make_invoke_runs_a_function_against_the_stack(stack):
    run = subprocess.run(["make", "--no-print-directory", "invoke", "FUNCTION=WebhooksFunction",
                          "EVENT=events/webhooks-mailgun.json"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**stack["env"], "WEBHOOK_MAX_AGE_SECONDS": "0"})
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout[run.stdout.index("{"):])
    assert result["statusCode"] == 200 and json.loads(result["body"])["received"] == 1
    replay = subprocess.run(["make", "--no-print-directory", "replay"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env=stack["env"])
    assert replay.returncode == 0 and json.loads(replay.stdout[replay.stdout.index("{") :]) == {
        "replayed": 0,
        "refused": 0,
        "failed": 0,
    }
    refused = subprocess.run(
        ["make", "--no-print-directory", "invoke", "FUNCTION=NoSuchFunction", "EVENT=events/health.json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=stack["env"],
    )
    assert refused.returncode != 0 and "HealthFunction" in refused.stderr


def test_a_csv_export_job_is_run_by_the_background_poller(stack):
    base = stack["base"]
    started = requests.get(f"{base}/v1/messages", params={"format": "csv", "async": "true", "limit": 7},
                           headers=auth(stack), timeout=10)
    assert started.status_code == 202
    deadline = time.monotonic() + 120  # only so that a broken poller fails the test instead of hanging it
    while (job := requests.get(f"{base}{started.headers['location']}", headers=auth(stack), timeout=10).json())[
            "status"] == "running":
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["status"] == "done"
    report = requests.get(job["url"], timeout=10)  # the presigned link, served by moto
    assert report.status_code == 200 and report.headers["content-disposition"].endswith(f'"{job["filename"]}"')
    assert len(list(csv.DictReader(io.StringIO(report.text)))) == job["rows"] >= 40


def test_through_make_run_a_message_is_refreshed_recovered_and_its_reset_reaches_the_provider(stack, mailgun_api):
    base, headers = stack["base"], auth(stack)
    api_credentials = {"api": {"api_key": "key-demo-mailgun-api-1", "domain": "mg.demo.example"}}
    assert requests.put(f"{base}/v1/providers/mailgun", json=api_credentials, headers=headers, timeout=30).ok
    recorded = requests.post(f"{base}/v1/messages", headers=headers, timeout=30, json={
        "channel": "email", "provider": "mailgun", "subject": "Never heard of",
        "recipients": [{"address": f"{who}@stack.example", "provider_message_id": "never@mg.demo.example"}
                       for who in ("kept", "gone")]})
    message_id = recorded.json()["message_id"]
    at = time.time() - 600  # what Mailgun knows; its webhooks never reached the stack
    sent = "never@mg.demo.example"
    mailgun_api.add(mailgun_event("delivered", "kept@stack.example", at=at, provider_message_id=sent),
                    mailgun_event("failed", "gone@stack.example", at=at, severity="permanent", reason="bounce",
                                  provider_message_id=sent))
    refreshed = requests.post(f"{base}/v1/messages/{message_id}/refresh", headers=headers, timeout=30).json()
    assert refreshed["changed"] == 2 and refreshed["outcomes"] == {"LOG_RECOVERED": 2}, refreshed
    detail = requests.get(f"{base}/v1/messages/{message_id}", headers=headers, timeout=30).json()
    assert sorted((r["address"], r["status"]) for r in detail["recipients"]) == [
        ("gone@stack.example", "bounced"), ("kept@stack.example", "delivered")]
    window = {"FROM": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at - 60)),
              "TO": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at + 60))}
    recovered = subprocess.run(["make", "--no-print-directory", "recover", "TENANT=demo", "PROVIDER=mailgun",
                                *(f"{k}={v}" for k, v in window.items())], cwd=ROOT, capture_output=True, text=True,
                               timeout=120, env=stack["env"])
    assert recovered.returncode == 0, recovered.stderr
    answer = json.loads(recovered.stdout[recovered.stdout.index("{"):])
    assert (answer["status"], answer["outcomes"]) == ("done", {"NOLOG_DUPLICATE": 2})  # counted once
    mailgun_api.lists["bounces"].add("gone@stack.example")
    reset = requests.delete(f"{base}/v1/suppressions/gone@stack.example", headers=headers, timeout=30).json()
    assert reset["providers"] == [{"provider": "mailgun", "held": ["bounce"], "outcome": "removed"}]
    assert mailgun_api.lists["bounces"] == set()


def test_ctrl_c_stops_everything(stack):
    process = stack["process"]
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    assert not (ROOT / ".local" / f"stack-{stack['port']}.json").exists()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{stack['base']}/v1/health", timeout=5)

