"""Who is calling, and what they may see.

The HTTP API JWT authorizer hands the handler the token's claims, with list claims flattened to
"[a b c]" strings. The tenant comes from the claims only (webhooks excepted: there the provider's
signature proves the tenant).
"""

from __future__ import annotations

import re
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

TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
FAMILY_ROLES = frozenset({"student", "guardian"})
STAFF_ROLES = frozenset({"staff"})


def list_claim(value: Any) -> list[str]:
    """A list claim as API Gateway delivers it: "[a b c]" (or a real list, or one bare value)."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [part.strip('"\',') for part in text.replace(",", " ").split() if part.strip('"\',')]


@dataclass(frozen=True, slots=True)
class Caller:
    sub: str
    name: str
    tenant: str
    rights: frozenset[str]
    org_units: frozenset[str]

    @classmethod
    def from_claims(cls, claims: dict[str, Any] | None) -> Caller:
        claims = claims or {}
        tenant = str(claims.get("tenant_id") or "")
        if not TENANT_ID.match(tenant):
            raise Unauthorized("the token carries no valid tenant_id claim")
        sub = str(claims.get("sub") or "")
        if not sub:
            raise Unauthorized("the token carries no sub claim")
        return cls(
            sub=sub,
            name=str(claims.get("name") or sub),
            tenant=tenant,
            rights=frozenset(list_claim(claims.get("rights"))) & RIGHTS,
            org_units=frozenset(list_claim(claims.get("org_units"))),
        )

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
