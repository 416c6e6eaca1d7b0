"""Pure building blocks: ids, keys, addresses, status precedence, claims and rights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msglog import ids, keys
from msglog.addresses import key_of_any, recipient_key
from msglog.auth import Caller, delivery_grants, is_right_name, list_claim
from msglog.errors import Forbidden, Unauthorized
from msglog.precedence import RANK, precedence, supersedes

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@given(moments, moments)
def test_ulids_sort_by_time(a, b):
    first, second = ids.new_ulid(a), ids.new_ulid(b)
    if a.replace(microsecond=a.microsecond // 1000 * 1000) < b.replace(microsecond=b.microsecond // 1000 * 1000):
        assert first < second
    assert ids.is_ulid(first) and len(first) == 26
    assert abs(ids.ulid_time(first) - a) < timedelta(milliseconds=1)


@given(moments, st.integers(min_value=0, max_value=10**9))
def test_ulid_bounds_hold_exactly_the_range(start, span_ms):
    end = start + timedelta(milliseconds=span_ms)
    low, high = ids.bounds(start, end)
    assert low <= ids.new_ulid(start) <= high
    assert low <= ids.new_ulid(end) <= high
    assert not low <= ids.new_ulid(end + timedelta(milliseconds=1)) <= high
    assert not low <= ids.new_ulid(start - timedelta(milliseconds=1)) <= high


@given(st.text(min_size=1, max_size=40), st.integers(min_value=1, max_value=64))
def test_shards_are_stable_and_in_range(value, shards):
    assert 0 <= keys.shard_of(value, shards) < shards
    assert keys.shard_of(value, shards) == keys.shard_of(value, shards)


def test_shards_spread_evenly():
    counts = [0] * 4
    for n in range(4000):
        counts[keys.shard_of(f"event-{n}", 4)] += 1
    assert all(900 < c < 1100 for c in counts)


def test_every_partition_key_starts_with_its_tenant():
    built = [
        keys.tenant_pk("t1"),
        keys.message_pk("t1", "M"),
        keys.sent_feed_pk("t1", 0),
        keys.recipient_pk("t1", "a@b.c"),
        keys.person_pk("t1", "p"),
        keys.family_pk("t1", "f"),
        keys.event_feed_pk("t1", 1),
        keys.message_group_pk("t1", "M", "a@b.c"),
        keys.provider_message_pk("t1", "x"),
        keys.idempotency_pk("t1", "k"),
        keys.body_due_pk("t1", 2),
        keys.health_pk("t1", "mailgun"),
    ]
    assert all(k.startswith("T#t1#") or k == "T#t1" for k in built)


@pytest.mark.parametrize("address,channel,key", [
    ("Pat.Doe@Example.COM", "email", "pat.doe@example.com"),
    (" pat@example.com ", "email", "pat@example.com"),
    ("+1 (555) 010-2000", "sms", "+15550102000"),
    ("+447700900123", "sms", "+447700900123"),
    ("fcm:abc123", "push", "fcm:abc123"),
])
def test_recipient_keys(address, channel, key):
    assert recipient_key(address, channel) == key


@pytest.mark.parametrize("address,channel", [("nobody", "email"), ("a@b", "email"), ("5550102000", "sms"),
                                             ("+0123456789", "sms"), ("has space", "push"), ("x" * 300, "push")])
def test_bad_addresses_say_why(address, channel):
    with pytest.raises(ValueError):
        recipient_key(address, channel)


def test_address_shape_picks_the_channel():
    assert key_of_any("PAT@example.com") == "pat@example.com"
    assert key_of_any("+15550102000") == "+15550102000"
    assert key_of_any("device-token-1") == "device-token-1"


EVENTS = sorted(e for e in RANK if RANK[e])


@given(st.sampled_from(EVENTS), st.sampled_from(EVENTS), st.integers(0, 3), st.integers(0, 3), st.sampled_from("ab"),
       st.sampled_from("ab"))
def test_precedence_has_one_winner_whatever_came_first(a, b, ta, tb, ida, idb):
    at_a, at_b = f"2026-01-01T00:00:0{ta}Z", f"2026-01-01T00:00:0{tb}Z"
    if (a, at_a, ida) == (b, at_b, idb):
        return
    a_replaces_b = supersedes(a, at_a, ida, precedence(b, at_b, idb))
    b_replaces_a = supersedes(b, at_b, idb, precedence(a, at_a, ida))
    if precedence(a, at_a, ida) != precedence(b, at_b, idb):
        assert a_replaces_b != b_replaces_a


def test_unknown_and_stored_never_change_status():
    assert not supersedes("unknown", "2030-01-01T00:00:00Z", "x", precedence("queued", "2000-01-01T00:00:00Z"))
    assert not supersedes("stored", "2030-01-01T00:00:00Z", "x", None)


def test_spec_precedence_examples():
    # a late delivered
    assert not supersedes("delivered", "2026-01-02", "e2", precedence("bounced", "2026-01-01", "e1"))
    assert not supersedes("delivered", "2026-01-02", "e2", precedence("opened", "2026-01-01", "e1"))
    assert supersedes("complained", "2026-01-01", "e1", precedence("clicked", "2026-01-02", "e2"))
    assert supersedes("failed", "2026-01-02", "e2", precedence("bounced", "2026-01-01", "e1"))  # equal rank: later wins
    assert supersedes("accepted", "2026-01-02", "e1", precedence("queued", "2026-01-01"))


@pytest.mark.parametrize("claim,expected", [
    ("[a b c]", ["a", "b", "c"]), ("[]", []), ("admin", ["admin"]), (["x", "y"], ["x", "y"]), (None, []),
])
def test_list_claims_as_api_gateway_flattens_them(claim, expected):
    assert list_claim(claim, "rights", is_right_name) == expected


def caller(rights, org_units="[*]", sub="u1", tenant="acme"):
    return Caller.from_claims({"sub": sub, "tenant_id": tenant, "rights": rights, "org_units": org_units})


@pytest.mark.parametrize("claims", [{}, {"sub": "u"}, {"sub": "u", "tenant_id": "a#b"}, {"tenant_id": "acme"},
                                    {"sub": "u", "tenant_id": ""}, {"sub": "u", "tenant_id": "x" * 65}])
def test_claims_without_a_valid_tenant_or_subject_are_refused(claims):
    with pytest.raises(Unauthorized):
        Caller.from_claims(claims)


def test_unknown_rights_are_ignored_and_admin_holds_all():
    assert caller("[logs:everything]").rights == frozenset()
    assert caller("[admin]").has("logs:provider")
    with pytest.raises(Forbidden):
        caller("[logs:sent]").require("logs:provider")


def test_org_unit_scope():
    scoped = caller("[logs:sent]", "[school-1 school-2]")
    assert scoped.sees_org_unit("school-1") and not scoped.sees_org_unit("school-3")
    assert not scoped.sees_org_unit(None)
    assert caller("[logs:sent]").sees_org_unit(None)


def _allowed(rights, channel, role, sender):
    who = caller(rights)
    return any(g.allows(channel=channel, role=role, sender_id=sender, caller=who) for g in delivery_grants(who))


@pytest.mark.parametrize("rights,channel,role,sender,allowed", [
    # seed 000: the plain right shows only the caller's own messages, to students
    ("[logs:recipient]", "email", "student", "u1", True),
    ("[logs:recipient]", "email", "student", "u2", False),
    ("[logs:recipient]", "email", "guardian", "u1", False),
    ("[logs:recipient people:all]", "email", "guardian", "u1", True),
    ("[logs:recipient:any-sender]", "sms", "student", "u2", True),
    ("[logs:recipient:any-sender]", "sms", "staff", "u2", False),
    ("[logs:recipient:any-sender people:all]", "sms", "staff", "u2", True),
    # seed 001: per-record logs by channel and audience
    ("[logs:email:family]", "email", "guardian", "u2", True),
    ("[logs:email:family]", "email", "staff", "u2", False),
    ("[logs:email:family]", "sms", "guardian", "u2", False),
    ("[logs:email:staff]", "email", "staff", "u2", True),
    ("[logs:sms:family]", "sms", "student", "u2", True),
    ("[logs:sms:staff]", "sms", "staff", "u2", True),
    ("[logs:push]", "push", "staff", "u2", True),
    ("[logs:push]", "email", "staff", "u2", False),
    ("[logs:sent]", "email", "student", "u1", False),
    ("[admin]", "push", None, None, True),
])
def test_recipient_rights(rights, channel, role, sender, allowed):
    assert _allowed(rights, channel, role, sender) is allowed
