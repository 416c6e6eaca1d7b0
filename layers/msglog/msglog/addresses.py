"""Recipient addresses: how they are validated and keyed.

E-mail addresses match case-insensitively (the key is lower-cased, the address is shown as
given); phones are E.164; push recipients are device tokens or app user ids, kept as given.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
PUSH_TOKEN = re.compile(r"^[^\s]{1,256}$")
_PHONE_PUNCTUATION = re.compile(r"[\s().-]")


def recipient_key(address: str, channel: str) -> str:
    """The key of `address` on `channel`; ValueError says what is wrong with it."""
    address = address.strip()
    if channel == "email":
        if len(address) > 254 or not EMAIL.match(address):
            raise ValueError("is not an e-mail address")
        return address.lower()
    if channel == "sms":
        phone = _PHONE_PUNCTUATION.sub("", address)
        if not E164.match(phone):
            raise ValueError("is not an E.164 phone number (+ and country code)")
        return phone
    if not PUSH_TOKEN.match(address):
        raise ValueError("is not a push token (1-256 characters, no spaces)")
    return address


def key_of_any(address: str) -> str:
    """Key of an address whose channel is not known (the recipient-log path): by its shape."""
    if "@" in address:
        return recipient_key(address, "email")
    if address.strip().startswith("+"):
        return recipient_key(address, "sms")
    return recipient_key(address, "push")
