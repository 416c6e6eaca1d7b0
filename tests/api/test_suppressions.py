"""The suppression list: filled by hard bounces, complaints and invalid addresses; looked up,
added and reset by administrators; every change audited."""

from __future__ import annotations

from tests.support import mailgun_event, token

READ = token(rights=["suppressions:read"])
WRITE = token(rights=["suppressions:write"], sub="u-ops")


def audit_entries(api):
    """The suppression changes in the audit log, oldest first, as an auditor reads them."""
    rows = api.get("/v1/audit?order=asc&limit=200", auth=token(rights=["logs:audit"])).json["items"]
    return [
        (r["id"], r["action"], r["actor"]["id"], r["entity"]) for r in rows if r["action"].startswith("suppression")
    ]


def test_bounces_and_complaints_are_suppressed_once(api):
    api.setup_tenant("acme")
    message_id = api.record(recipients=[{"address": "Gone@Example.com"}, {"address": "angry@example.com"},
                                        {"address": "fine@example.com"}])
    bounce = mailgun_event("failed", "Gone@Example.com", message_id=message_id, severity="permanent", reason="bounce",
                           **{"delivery-status": {"code": 550, "message": "5.1.1 no such user"}})
    api.mailgun(bounce)
    api.mailgun(bounce)  # a retry: no second entry
    api.mailgun(mailgun_event("complained", "angry@example.com", message_id=message_id))
    api.mailgun(mailgun_event("delivered", "fine@example.com", message_id=message_id))
    api.mailgun(mailgun_event("failed", "fine@example.com", message_id=message_id, severity="temporary"))
    listed = api.get("/v1/suppressions", auth=READ).json["items"]
    assert [(s["address"], s["reason"]) for s in listed] == [("angry@example.com", "complaint"),
                                                             ("Gone@Example.com", "bounce")]
    one = api.get("/v1/suppressions/gone@example.com", auth=READ).json
    assert (one["reason"], one["detail"], one["created_by"]) == ("bounce", "5.1.1 no such user", "provider:mailgun")
    assert [e[1:] for e in audit_entries(api)] == [
        ("suppression.added", "provider:mailgun", "suppression:gone@example.com"),
        ("suppression.added", "provider:mailgun", "suppression:angry@example.com"),
    ]


def test_administrators_add_look_up_and_reset(api):
    added = api.call("PUT", "/v1/suppressions/%2B15550100001", {"reason": "invalid", "note": "number disconnected"},
                     auth=WRITE)
    assert added.status == 200 and (added.json["address"], added.json["created_by"]) == ("+15550100001", "u-ops")
    assert api.get("/v1/suppressions/+15550100001", auth=READ).json["reason"] == "invalid"
    assert api.call("DELETE", "/v1/suppressions/+15550100001", auth=READ).status == 403
    assert api.call("DELETE", "/v1/suppressions/+15550100001", auth=WRITE).status == 204
    assert api.get("/v1/suppressions/+15550100001", auth=READ).status == 404
    assert api.call("DELETE", "/v1/suppressions/+15550100001", auth=WRITE).status == 404
    assert [e[1:3] for e in audit_entries(api)] == [("suppression.added", "u-ops"), ("suppression.reset", "u-ops")]


def test_bad_suppression_requests_name_the_field(api):
    assert api.call("PUT", "/v1/suppressions/a@example.com", {"reason": "grumpy"}, auth=WRITE).fields == ["reason"]
    assert api.call("PUT", "/v1/suppressions/not%20an%20address", {}, auth=WRITE).fields == ["address"]
    assert api.get("/v1/suppressions", auth=token(rights=["logs:sent"])).status == 403


def test_suppressions_stay_in_their_tenant(api):
    api.call("PUT", "/v1/suppressions/a@example.com", {}, auth=token("victim", ["suppressions:write"]))
    assert api.get("/v1/suppressions", auth=token("attacker", ["suppressions:read"])).json["items"] == []
    assert api.get("/v1/suppressions/a@example.com", auth=token("attacker", ["suppressions:read"])).status == 404
    assert (
        api.call("DELETE", "/v1/suppressions/a@example.com", auth=token("attacker", ["suppressions:write"])).status
        == 404
    )
    assert api.get("/v1/suppressions/a@example.com", auth=token("victim", ["suppressions:read"])).status == 200


def test_a_reset_address_comes_back_only_with_a_later_event(api):
    import time

    api.setup_tenant("acme")
    message_id = api.record(recipients=[{"address": "gone@example.com"}])
    old_bounce = mailgun_event("failed", "gone@example.com", message_id=message_id, severity="permanent",
                               reason="bounce", at=time.time() - 60)
    api.mailgun(old_bounce)
    assert api.call("DELETE", "/v1/suppressions/gone@example.com", auth=WRITE).status == 204
    api.mailgun(old_bounce)  # the provider retries the old bounce: the reset stands
    assert api.get("/v1/suppressions/gone@example.com", auth=READ).status == 404
    assert api.get("/v1/suppressions", auth=READ).json["items"] == []
    api.mailgun(mailgun_event("failed", "gone@example.com", message_id=message_id, severity="permanent",
                              reason="bounce", at=time.time() + 5))
    assert api.get("/v1/suppressions/gone@example.com", auth=READ).json["reason"] == "bounce"
