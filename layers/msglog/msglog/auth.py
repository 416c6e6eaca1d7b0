"""Who is calling, and what they may see.

The HTTP API JWT authorizer hands the handler the token's claims, with list claims flattened to
"[a b c]" strings: the elements joined by a space, nothing quoted. The tenant comes from the claims
only (webhooks excepted: there the provider's signature proves the tenant).

A flattened list is read one way only: split on single spaces, every element of its claim's shape
(RIGHT_NAME, ORG_UNIT_ID; `*` alone). A value that could be read two ways — `["logs:sent admin"]`
flattens exactly as `["logs:sent", "admin"]` — is a 401: an element with a space, comma, bracket
or quote is not of the shape, and the bearer token itself (the one the authorizer verified) is
read to see the elements before they were joined. That reading only ever refuses a call; what a
caller may do comes from the authorizer's claims.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from msglog.errors import Forbidden, Unauthorized

RIGHTS = frozenset({
    "admin", "messages:write", "events:write", "logs:sent", "logs:recipient",
    "logs:recipient:any-sender", "people:all", "logs:recipient-fields", "logs:provider",
    "logs:email:family", "logs:email:staff", "logs:sms:family", "logs:sms:staff", "logs:push",
    "logs:activity", "logs:audit", "logs:api", "logs:panel", "logs:logins", "logs:ingestion",
    "suppressions:read", "suppressions:write", "stats:read",
})

# Use with fullmatch (is_tenant_id): with match, "$" also matches before a final newline.
TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
# A right's shape (SPEC: Rights): well-formed names this service does not know are ignored.
RIGHT_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}(?::[a-z][a-z0-9-]{0,31}){0,3}")
ORG_UNIT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
ALL_ORG_UNITS = "*"
FAMILY_ROLES = frozenset({"student", "guardian"})
STAFF_ROLES = frozenset({"staff"})


def is_tenant_id(value: Any) -> bool:
    return isinstance(value, str) and TENANT_ID.fullmatch(value) is not None


def is_org_unit_id(value: str) -> bool:
    return value == ALL_ORG_UNITS or ORG_UNIT_ID.fullmatch(value) is not None


def is_right_name(value: str) -> bool:
    return RIGHT_NAME.fullmatch(value) is not None


def list_claim(value: Any, name: str, is_element: Callable[[str], bool], *, flattened: bool = True) -> list[str]:
    """A list claim as the authorizer delivers it: "[a b c]", one bare value, or a real list (a direct
    invocation); 401 unless every element passes `is_element` (so the list reads one way only).
    `flattened=False`: the claim as its issuer signed it, where a string is one value, brackets and all."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        elements = value
    elif flattened and isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        elements = value[1:-1].split(" ") if len(value) > 2 else []
    else:
        elements = [value]
    if not all(isinstance(e, str) and is_element(e) for e in elements):
        raise Unauthorized(f"the token's {name} claim is not a list of {name} as documented "
                           "(no spaces, commas, brackets or quotes in an element)")
    return elements


def bearer_claims(authorization: str | None) -> dict[str, Any] | None:
    """The claims inside the bearer token, as its issuer signed them — NOT verified here (the JWT
    authorizer did that); None when there is no readable token. Only ever used to refuse a call."""
    token = (authorization or "").strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, RecursionError):  # base64, UTF-8 and JSON errors are ValueErrors
        return None
    return claims if isinstance(claims, dict) else None


@dataclass(frozen=True, slots=True)
class Caller:
    sub: str
    name: str
    tenant: str
    rights: frozenset[str]
    org_units: frozenset[str]

    @classmethod
    def from_claims(cls, claims: dict[str, Any] | None, signed: dict[str, Any] | None = None) -> Caller:
        """The caller the authorizer's `claims` describe; `signed`: the bearer token's own claims
        (bearer_claims), when the request carries it, so that a list whose flattening hid an
        element with a space in it is refused (module docstring)."""
        claims = claims or {}
        tenant = claims.get("tenant_id") or ""
        if not is_tenant_id(tenant):
            raise Unauthorized("the token carries no valid tenant_id claim")
        sub = str(claims.get("sub") or "")
        if not sub:
            raise Unauthorized("the token carries no sub claim")
        rights = _list(claims, signed, "rights", is_right_name)
        org_units = _list(claims, signed, "org_units", is_org_unit_id)
        if ALL_ORG_UNITS in org_units and len(org_units) > 1:  # "[east *]" could be one unit's name
            raise Unauthorized("the token's org_units claim holds * beside other org units: * stands alone")
        return cls(sub=sub, name=str(claims.get("name") or sub), tenant=tenant, rights=rights & RIGHTS,
                   org_units=org_units)

    def has(self, right: str) -> bool:
        return "admin" in self.rights or right in self.rights

    def require(self, *rights: str) -> None:
        """At least one of `rights` (admin holds them all); otherwise 403."""
        if not any(self.has(r) for r in rights):
            raise Forbidden(f"this needs one of the rights: {', '.join(rights)}")

    def sees_org_unit(self, org_unit: str | None) -> bool:
        return "*" in self.org_units or (org_unit is not None and org_unit in self.org_units)

    @property
    def sees_field_values(self) -> bool:
        return self.has("logs:recipient-fields")


@dataclass(frozen=True, slots=True)
class Grant:
    """One right's window on deliveries: which channels, which recipient roles, whose messages."""

    channels: frozenset[str] | None = None  # None: every channel
    roles: frozenset[str] | None = None  # None: every role
    own_messages_only: bool = False

    def allows(self, *, channel: str, role: str | None, sender_id: str | None, caller: Caller) -> bool:
        return (
            (self.channels is None or channel in self.channels)
            and (self.roles is None or role in self.roles)
            and (not self.own_messages_only or sender_id == caller.sub)
        )


RECIPIENT_LOG_RIGHTS = (
    "logs:recipient", "logs:recipient:any-sender", "logs:email:family", "logs:email:staff",
    "logs:sms:family", "logs:sms:staff", "logs:push",
)

# The sends log (seed 004): every channel with logs:sent, else each channel a per-channel right opens.
SENDS_RIGHTS = (
    "logs:sent", "logs:email:family", "logs:email:staff", "logs:sms:family", "logs:sms:staff", "logs:push",
)

# The views a front end can draw, and the rights that open each (any one of them; admin opens all).
# `GET /v1/me` lists the caller's; tests/api/test_me.py holds it to what each view's route answers.
VIEW_RIGHTS: dict[str, tuple[str, ...]] = {
    "sent": ("logs:sent",),
    "recipient": RECIPIENT_LOG_RIGHTS,
    "events": ("logs:provider",),
    "sends": SENDS_RIGHTS,
    "suppressions": ("suppressions:read", "suppressions:write"),
    "stats": ("stats:read",),
    "transactions": ("stats:read",),
    "activity": ("logs:activity",),
    "audit": ("logs:audit",),
    "panel-log": ("logs:panel",),
    "logins": ("logs:logins",),
    "api-log": ("logs:api",),
    "ingestion-log": ("logs:ingestion",),
    "people": ("people:all", "logs:recipient", "logs:recipient:any-sender"),  # msglog.people.SEARCH_RIGHTS
}


def views(caller: Caller) -> list[str]:
    return [view for view, rights in VIEW_RIGHTS.items() if any(caller.has(right) for right in rights)]


def delivery_grants(caller: Caller) -> list[Grant]:
    """The recipient-log windows the caller's rights open (SPEC: Rights; seed 000 and 001)."""
    if "admin" in caller.rights:
        return [Grant()]
    rights = caller.rights
    grants: list[Grant] = []
    # Seed 000: plain Recipient Log rights show the caller's own messages, to students only;
    # "All People" rights lift the students-only limit.
    roles = None if "people:all" in rights else frozenset({"student"})
    if "logs:recipient:any-sender" in rights:
        grants.append(Grant(roles=roles))
    elif "logs:recipient" in rights:
        grants.append(Grant(roles=roles, own_messages_only=True))
    # Seed 001: per-record communication logs.
    per_channel = {
        "logs:email:family": ("email", FAMILY_ROLES), "logs:email:staff": ("email", STAFF_ROLES),
        "logs:sms:family": ("sms", FAMILY_ROLES), "logs:sms:staff": ("sms", STAFF_ROLES),
    }
    for right, (channel, allowed_roles) in per_channel.items():
        if right in rights:
            grants.append(Grant(channels=frozenset({channel}), roles=allowed_roles))
    if "logs:push" in rights:
        grants.append(Grant(channels=frozenset({"push"})))
    return grants


def send_grants(caller: Caller) -> list[Grant]:
    """The sends log's windows: every send with logs:sent (as the sent log shows every message), else the
    per-channel rights' windows (a `logs:sms:family` caller sees family-role SMS sends only)."""
    if caller.has("logs:sent"):
        return [Grant()]
    return [grant for grant in delivery_grants(caller) if grant.channels is not None]


def _list(claims: dict[str, Any], signed: dict[str, Any] | None, name: str,
          is_element: Callable[[str], bool]) -> frozenset[str]:
    elements = frozenset(list_claim(claims.get(name), name, is_element))
    if signed is not None and frozenset(list_claim(signed.get(name), name, is_element, flattened=False)) != elements:
        raise Unauthorized(f"the token's {name} claim reads differently from what the authorizer passed on")
    return elements
