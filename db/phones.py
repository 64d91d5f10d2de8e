"""Phone numbers: every seeker's number is stored in E.164 (+8613800000001)."""

from __future__ import annotations

import phonenumbers


class BadPhone(ValueError):
    """Not a phone number we can text."""


def normalize_phone(raw: str, region: str = "CN") -> str:
    """Turn what someone typed into E.164, or raise BadPhone."""
    try:
        number = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException as error:
        raise BadPhone(f"not a phone number: {raw!r}") from error
    if not phonenumbers.is_possible_number(number):
        raise BadPhone(f"not a possible phone number: {raw!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str) -> str:
    """A phone number safe for logs: +86138****0001."""
    if len(phone) <= 8:
        return "*" * len(phone)
    return phone[:6] + "*" * (len(phone) - 10) + phone[-4:]
