"""Rows carry what the screens show (issue 18): whether a row's body is still kept and an SMS or push
row's text; the sends log (seed 004's SMS log); `suppressed` on rows, read once a page; a person's or
family's suppressed addresses (seed 001's "Blacklisted Recipients"); the gateway name of a provider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import pytest

from tests.support import Faults, mailgun_event, token

PHONE, STAFF_PHONE, OTHER_PHONE = "+15558675310", "+15558675311", "+15558675312"
TWILIO_TOKEN = "twilio-auth-token"
SID = "SM0123456789abcdef0123456789abcdef"


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def sms(api, text: str | None = "School closes at noon today.", recipients=None, tenant: str = "acme",
        **message) -> str:
    if text is not None:
        message["body"] = {"text": text}
    return api.record(tenant, channel="sms", provider="twilio", recipients=recipients or [
        {"address": PHONE, "person_id": "p-1", "family_id": "f-1", "role": "guardian"}], **message)


def twilio_post(api, params: dict[str, str], query: str = ""):
    from msglog.providers.twilio import signature

    url = f"https://api.example.test/v1/webhooks/twilio/acme{query}"  # PUBLIC_BASE_URL in the tests
    return api.post(f"/v1/webhooks/twilio/acme{query}", raw=urlencode(params).encode(), auth=None,
                    content_type="application/x-www-form-urlencoded",
                    headers={"X-Twilio-Signature": signature(TWILIO_TOKEN, url, list(params.items()))})


def rows(api, path: str, auth: str | None = None) -> list[dict]:
    reply = api.get(path, **({"auth": auth} if auth else {}))
    assert reply.status == 200, reply.raw
    return reply.json["items"]


# ------------------------------------------------------------------ body_kept and text
def test_sms_and_push_rows_carry_their_text_while_the_body_is_kept(api):
    old = sms(api, "Report cards go home Friday.", created_at=ago(days=25 * 31))
    new = sms(api, "School closes at noon today.", created_at=ago(hours=1))
    push = api.record(channel="push", body={"text": "Bus 12 is running late"},
                      recipients=[{"address": "device-token-1", "family_id": "f-1"}])
    email = api.record(body={"text": "Dear family", "html": "<p>Dear family</p>"})
    bare = api.record(subject="no body")
    assert api.gateway.runtime.invoke("PurgeFunction", {})["purged"] == 1  # the old SMS: past 24 months

    log = {row["message_id"]: row for row in rows(api, f"/v1/recipients/{quote(PHONE)}/messages")}
    assert (log[new]["body_kept"], log[new]["text"]) == (True, "School closes at noon today.")
    assert (log[old]["body_kept"], log[old]["text"]) == (False, None)
    sent = {row["message_id"]: row for row in rows(api, "/v1/messages")}
    assert (sent[new]["body_kept"], sent[new]["text"]) == (True, "School closes at noon today.")
    assert (sent[old]["body_kept"], sent[old]["text"]) == (False, None)
    assert (sent[push]["body_kept"], sent[push]["text"]) == (True, "Bus 12 is running late")
    assert sent[email]["body_kept"] is True and "text" not in sent[email]  # e-mail text: the detail's
    assert sent[bare]["body_kept"] is False  # nothing to view
    family = {row["message_id"]: row for row in rows(api, "/v1/recipients/family:f-1/messages?channel=push")}
    assert (family[push]["body_kept"], family[push]["text"]) == (True, "Bus 12 is running late")


# ------------------------------------------------------------------ the sends log (seed 004)
def test_the_sms_sends_log_has_seed_004_s_columns_newest_first(api):
    assert api.call("PUT", "/v1/providers/twilio", {"auth_token": TWILIO_TOKEN, "name": "District SMS"}).status == 200
    first = sms(api, "Snow day", campaign="Snow day alert", created_at=ago(hours=2), recipients=[
        {"address": PHONE, "person_id": "p-1", "family_id": "f-1", "role": "guardian"},
        {"address": STAFF_PHONE, "person_id": "s-1", "role": "staff"}])
    second = sms(api, "Lunch menu", campaign="Lunch menu", created_at=ago(hours=1),
                 recipients=[{"address": OTHER_PHONE, "person_id": "p-2", "family_id": "f-2", "role": "student"}])
    api.record(recipients=[{"address": "pat@example.com"}])  # e-mail: not in the SMS log
    failed = {"MessageSid": SID, "To": STAFF_PHONE, "AccountSid": "AC1", "MessageStatus": "undelivered",
              "ErrorCode": "30003"}
    assert twilio_post(api, failed, query=f"?message_id={first}").status == 200

    log = rows(api, "/v1/sends?channel=sms")
    assert [(r["message_id"], r["address"]) for r in log[:1]] == [(second, OTHER_PHONE)]
    assert sorted((r["message_id"], r["address"]) for r in log[1:]) == [(first, PHONE), (first, STAFF_PHONE)]
    by_address = {r["address"]: r for r in log}
    staff = by_address[STAFF_PHONE]
    assert {k: staff[k] for k in ("campaign", "gateway", "status", "error", "body_kept", "text", "suppressed")} == {
        "campaign": "Snow day alert", "gateway": "District SMS", "status": "undelivered",
        "error": "Unreachable destination handset", "body_kept": True, "text": "Snow day", "suppressed": False}
    assert by_address[PHONE]["error"] is None and by_address[OTHER_PHONE]["campaign"] == "Lunch menu"
    assert len({r["send_id"] for r in log}) == 3 and all(r["send_id"].startswith(r["message_id"]) for r in log)
    assert [r["created_at"] for r in log] == sorted((r["created_at"] for r in log), reverse=True)

    page = api.get("/v1/sends?channel=sms&limit=2").json
    rest = api.get(f"/v1/sends?channel=sms&limit=2&cursor={page['next_cursor']}").json
    assert [r["send_id"] for r in page["items"] + rest["items"]] == [r["send_id"] for r in log]
    assert rest["next_cursor"] is None
    assert len(rows(api, "/v1/sends")) == 4  # every channel the caller's rights open: all, for an administrator
    assert [r["message_id"] for r in rows(api, f"/v1/sends?channel=sms&from={quote(ago(minutes=90))}")] == [second]
    # `q` searches what a row shows, its message's campaign and its gateway's name too
    assert [r["message_id"] for r in rows(api, "/v1/sends?channel=sms&q=snow")] == [first, first]
    assert [r["campaign"] for r in rows(api, "/v1/sends?channel=sms&q=lunch")] == ["Lunch menu"]
    assert len(rows(api, "/v1/sends?channel=sms&q=district")) == 3
    report = api.get("/v1/sends?channel=sms&format=csv").raw.decode().splitlines()
    assert report[0].startswith("send_id,created_at,message_id,campaign,") and len(report) == 4
    assert "District SMS" in report[1] and "Lunch menu" in report[1]


def test_a_provider_s_gateway_name_is_kept_until_changed(api):
    assert api.call("PUT", "/v1/providers/twilio", {"auth_token": TWILIO_TOKEN, "name": "District SMS"}).json[
        "name"] == "District SMS"
    rotated = api.call("PUT", "/v1/providers/twilio", {"auth_token": "twilio-auth-token-2", "keep_previous": True})
    assert rotated.json["name"] == "District SMS"  # a key rotation need not repeat it
    assert api.get("/v1/tenant").json["providers"]["twilio"]["name"] == "District SMS"
    assert api.call("PUT", "/v1/providers/twilio", {"auth_token": TWILIO_TOKEN, "name": "x" * 121}).fields == ["name"]
    sms(api)
    assert rows(api, "/v1/sends?channel=sms")[0]["gateway"] == "District SMS"
    api.call("PUT", "/v1/providers/twilio", {"auth_token": TWILIO_TOKEN, "name": "Backup SMS"})
    assert rows(api, "/v1/sends?channel=sms")[0]["gateway"] == "Backup SMS"


def test_sends_rows_are_scoped_like_the_recipient_log(api):
    sms(api, org_unit="east", recipients=[
        {"address": PHONE, "family_id": "f-1", "role": "guardian"}, {"address": STAFF_PHONE, "role": "staff"}])
    sms(api, org_unit="west", recipients=[{"address": OTHER_PHONE, "role": "student"}])
    api.record(org_unit="east", recipients=[{"address": "pat@example.com", "role": "guardian"}])
    sms(api, tenant="other", recipients=[{"address": PHONE, "role": "guardian"}])

    family_sms = token(rights=["logs:sms:family"])
    assert sorted(r["address"] for r in rows(api, "/v1/sends?channel=sms", family_sms)) == [PHONE, OTHER_PHONE]
    assert sorted(r["address"] for r in rows(api, "/v1/sends", family_sms)) == [PHONE, OTHER_PHONE]  # SMS only
    assert api.get("/v1/sends?channel=email", auth=family_sms).status == 403
    assert [r["address"] for r in rows(api, "/v1/sends", token(rights=["logs:sms:staff"]))] == [STAFF_PHONE]
    assert sorted(r["address"] for r in rows(api, "/v1/sends?channel=sms", token(
        rights=["logs:sent"], org_units=("east",)))) == [PHONE, STAFF_PHONE]
    assert [r["address"] for r in rows(api, "/v1/sends", token(rights=["logs:email:family"]))] == ["pat@example.com"]
    assert api.get("/v1/sends", auth=token(rights=["logs:recipient", "logs:provider"])).status == 403
    assert api.get("/v1/sends?channel=fax").fields == ["channel"]
    assert len(rows(api, "/v1/sends", token("other"))) == 1


def test_sends_recorded_before_the_sends_feed_join_it_by_the_operator_command(api):
    """Deliveries recorded before gsi3 existed are not in GET /v1/sends; `index-sends` puts them there,
    a bounded number of messages a call, and a repeat changes nothing."""
    from msglog.models import Delivery

    ids = [sms(api, f"Notice {n}", created_at=ago(hours=n + 1), recipients=[
        {"address": f"+1555010{n:04d}"}, {"address": f"+1555020{n:04d}"}]) for n in range(5)]
    everything = rows(api, "/v1/sends?channel=sms")
    assert len(everything) == 10
    for delivery in Delivery.scan(Delivery.message_id.is_in(*ids)):  # as recorded before the index
        delivery.update(actions=[Delivery.gsi3pk.remove(), Delivery.gsi3sk.remove()])
    assert rows(api, "/v1/sends?channel=sms") == []
    after, calls, written = None, 0, 0
    while True:
        done = api.gateway.runtime.invoke("OperationsFunction", {"command": "index-sends", "tenant": "acme",
                                                                 "limit": 2, "after": after})
        calls, written = calls + 1, written + done["written"]
        if not (after := done["next"]):
            break
    assert calls >= 3 and written == 10
    assert rows(api, "/v1/sends?channel=sms") == everything
    again = api.gateway.runtime.invoke("OperationsFunction", {"command": "index-sends", "tenant": "acme"})
    assert (again["messages"], again["written"], again["next"]) == (5, 0, None)


# ------------------------------------------------------------------ suppressed
def test_rows_say_whether_their_address_is_suppressed(api):
    message = sms(api, recipients=[{"address": PHONE, "family_id": "f-1", "role": "guardian"},
                                   {"address": OTHER_PHONE, "family_id": "f-1", "role": "guardian"}])
    assert api.call("PUT", f"/v1/suppressions/{quote(PHONE)}", {"reason": "invalid"}).status == 200

    sends = {r["address"]: r["suppressed"] for r in rows(api, "/v1/sends?channel=sms")}
    assert sends == {PHONE: True, OTHER_PHONE: False}
    family = {r["address"]: r["suppressed"] for r in rows(api, "/v1/recipients/family:f-1/messages")}
    assert family == {PHONE: True, OTHER_PHONE: False}
    assert rows(api, f"/v1/recipients/{quote(PHONE)}/messages")[0]["suppressed"] is True
    assert rows(api, "/v1/messages")[0]["message_id"] == message
    detail = api.get(f"/v1/messages/{message}").json["recipients"]
    assert {r["address"]: r["suppressed"] for r in detail} == {PHONE: True, OTHER_PHONE: False}

    assert api.call("DELETE", f"/v1/suppressions/{quote(PHONE)}").status == 204
    assert {r["address"]: r["suppressed"] for r in rows(api, "/v1/sends?channel=sms")} == {PHONE: False,
                                                                                          OTHER_PHONE: False}


def test_a_page_reads_its_suppressions_in_one_batch_not_per_row(api, monkeypatch):
    phones = [f"+1555000{n:04d}" for n in range(30)]
    sms(api, recipients=[{"address": p, "family_id": "f-1", "role": "guardian"} for p in phones])
    for phone in phones[:3]:
        api.call("PUT", f"/v1/suppressions/{quote(phone)}", {"reason": "invalid"})
    rows(api, "/v1/recipients/family:f-1/messages")  # settings cached, as in a warm container
    faults = Faults(monkeypatch)
    for path in ("/v1/sends?channel=sms", "/v1/recipients/family:f-1/messages"):
        faults.keys.clear()
        faults.calls.clear()
        shown = rows(api, path)
        assert sum(r["suppressed"] for r in shown) == 3
        suppression_reads = [op for op, pk, _ in faults.keys if "#SUPP#" in pk]
        assert suppression_reads == ["BatchGetItem"] * 30  # each address's item once, in a batch
        assert faults.calls.get("GetItem", 0) == 0


# ------------------------------------------------------------------ a person's or family's suppressions (seed 001)
def test_a_family_s_blacklisted_recipients(api):
    api.setup_tenant()
    email = api.record(recipients=[{"address": "Parent@Example.com", "person_id": "p-1", "family_id": "f-1"},
                                   {"address": "kid@example.com", "person_id": "p-2", "family_id": "f-1"}])
    sms(api, recipients=[{"address": PHONE, "person_id": "p-1", "family_id": "f-1", "role": "guardian"}])
    api.record(recipients=[{"address": "other@example.com", "family_id": "f-2"}])
    bounce = mailgun_event("failed", "Parent@Example.com", message_id=email, severity="permanent", reason="bounce",
                           **{"delivery-status": {"code": 550, "message": "5.1.1 mailbox does not exist"}})
    assert api.mailgun(bounce).status == 200
    api.call("PUT", f"/v1/suppressions/{quote(PHONE)}", {"reason": "invalid", "note": "number not in service"})
    api.call("PUT", "/v1/suppressions/other@example.com", {"reason": "complaint"})

    reader = token(rights=["suppressions:read"])
    family = rows(api, "/v1/suppressions?family_id=f-1", reader)
    assert [(s["address"], s["reason"], s["provider"]) for s in family] == [
        ("+15558675310", "invalid", None), ("Parent@Example.com", "bounce", "mailgun")]
    assert [s["address"] for s in rows(api, "/v1/suppressions?person_id=p-2", reader)] == []
    assert [s["address"] for s in rows(api, "/v1/suppressions?person_id=p-1&reason=bounce", reader)] == [
        "Parent@Example.com"]
    assert len(rows(api, "/v1/suppressions", reader)) == 3  # the whole list, as before
    assert api.get("/v1/suppressions?family_id=f-1&person_id=p-1", auth=reader).fields == ["family_id"]
    assert api.get("/v1/suppressions?family_id=f-1", auth=token(rights=["logs:sent"])).status == 403


@pytest.mark.parametrize("path", ["/v1/sends?channel=sms&limit=1", "/v1/suppressions?family_id=f-9"])
def test_other_tenants_see_none_of_it(api, path):
    sms(api, recipients=[{"address": PHONE, "family_id": "f-9", "role": "guardian"}])
    api.call("PUT", f"/v1/suppressions/{quote(PHONE)}", {"reason": "invalid"})
    assert len(rows(api, path)) == 1
    assert rows(api, path, token("other")) == []
