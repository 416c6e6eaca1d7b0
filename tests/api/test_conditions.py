"""The conditions that make concurrent writes safe, checked as DynamoDB (moto) applies them: what
the loser of a race writes is refused, and changes nothing a user sees. (The races themselves:
tests/stack/test_concurrency.py, against the local stack with several execution environments.)"""

from __future__ import annotations

from msglog import keys, messages, stats
from msglog.models import Message
from msglog.schemas import RecipientIn
from tests.support import mailgun_event


def _message(message_id: str) -> Message:
    return Message.get(keys.message_pk("acme", message_id), keys.META_SK, consistent_read=True)


def _stats(api) -> dict:
    return api.get("/v1/stats?group=campaign").json["items"]


def test_a_delivery_a_racing_client_adds_again_is_refused_and_keeps_its_raised_status(api):
    api.setup_tenant()
    message_id = api.record(subject="Race", recipients=[{"address": "pat@example.com"}])
    assert api.mailgun(mailgun_event("delivered", "pat@example.com", message_id=message_id)).status == 200
    # the loser of two clients adding pat at once: it read no delivery, and writes one now
    late = messages._delivery("acme", _message(message_id), RecipientIn(address="pat@example.com"))
    assert messages._put_new([late]) == [late.pk]
    shown = api.get(f"/v1/messages/{message_id}").json["recipients"]
    assert [(r["address"], r["status"]) for r in shown] == [("pat@example.com", "delivered")]


def test_a_message_a_racing_client_stores_again_is_refused_and_counted_once(api):
    message_id = api.record(subject="Once", recipients=[{"address": "pat@example.com"}, {"address": "kim@example.com"}])
    before = _stats(api)
    assert stats.save_counted(_message(message_id), recipients=2) is False
    assert _stats(api) == before and [(i["messages"], i["recipients"]) for i in before] == [(1, 2)]
