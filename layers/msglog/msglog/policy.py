"""A tenant's logging policy (seed 003's "what the logger leaves out"): recipients of its own
domains, addresses it chose to ignore, and subjects matching its patterns are not logged; the
ingestion log says why (docs/decisions.md, "Logging policy").

Subject patterns are not regular expressions: `*` stands for any run of characters, everything
else is literal, case aside, and a pattern matches anywhere in the subject. Matching is a series
of substring searches, so no pattern can make it backtrack; counts and lengths are bounded at PATCH.
Light on purpose (no pydantic): the webhook path screens every event with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from msglog.addresses import recipient_key

NOLOG_NO_RECIPS = "NOLOG_NO_RECIPS"  # the recipient is internal (one of the tenant's own domains)
NOLOG_ALL_IGNORED = "NOLOG_ALL_IGNORED"  # the recipient is on the ignore list
NOLOG_CONTENT = "NOLOG_CONTENT"  # the subject matched an ignore pattern
MAX_DOMAINS = 50
MAX_ADDRESSES = 1000
MAX_PATTERNS = 20
MAX_PATTERN_CHARS = 100
MAX_SUBJECT_CHARS = 2000  # of a subject, screened: the logs keep no longer one anyway
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True, slots=True)
class Policy:
    internal_domains: frozenset[str] = frozenset()
    ignore_addresses: frozenset[str] = frozenset()  # recipient keys (e-mail lower-cased, phones E.164)
    ignore_subject_patterns: tuple[str, ...] = ()

    def screen(self, address: str | None, channel: str | None, subject: str | None) -> str | None:
        """Why a message to `address` with `subject` is not logged, or None when it is."""
        if address and channel == "email" and "@" in address:
            domain = address.strip().rsplit("@", 1)[1].lower()
            if any(domain == d or domain.endswith("." + d) for d in self.internal_domains):
                return NOLOG_NO_RECIPS
        if address and channel and self.ignore_addresses and _key(address, channel) in self.ignore_addresses:
            return NOLOG_ALL_IGNORED
        if subject and any(matches(p, subject) for p in self.ignore_subject_patterns):
            return NOLOG_CONTENT
        return None


def of(stored: Any) -> Policy | None:
    """The policy stored in a tenant's settings (`logging_policy`, a map), or None without one."""
    if not stored:
        return None
    value = stored.as_dict() if hasattr(stored, "as_dict") else dict(stored)
    policy = Policy(frozenset(value.get("internal_domains") or ()), frozenset(value.get("ignore_addresses") or ()),
                    tuple(value.get("ignore_subject_patterns") or ()))
    return policy if policy != Policy() else None


def matches(pattern: str, subject: str) -> bool:
    """Whether `pattern` (`*` any run of characters) occurs in `subject`, case aside: its literal
    parts found in order, each by one substring search — linear work, whatever the pattern."""
    text, at = subject[:MAX_SUBJECT_CHARS].casefold(), 0
    for part in pattern.casefold().split("*"):
        if not part:
            continue
        found = text.find(part, at)
        if found < 0:
            return False
        at = found + len(part)
    return True


def _key(address: str, channel: str) -> str | None:
    try:
        return recipient_key(address, channel)
    except ValueError:
        return None


# ------------------------------------------------------------------ validation (PATCH /tenant)
def domain(value: str) -> str:
    """A domain, normalised (lower case, no leading @ or trailing dot); ValueError says why not."""
    normal = value.strip().lower().removeprefix("@").rstrip(".")
    if not DOMAIN.match(normal):
        raise ValueError(f"{value[:100]!r} is not a domain such as example.org")
    return normal


def address(value: str) -> str:
    """An e-mail address (lower-cased) or E.164 phone number; ValueError says why not."""
    text = value.strip()
    try:
        return recipient_key(text, "email" if "@" in text else "sms")
    except ValueError:
        raise ValueError(f"{value[:100]!r} is not an e-mail address or E.164 phone number") from None


def pattern(value: str) -> str:
    text = value.strip()
    if not text.replace("*", ""):
        raise ValueError("a pattern needs some text besides *")
    if len(text) > MAX_PATTERN_CHARS:
        raise ValueError(f"a pattern is at most {MAX_PATTERN_CHARS} characters")
    return text
