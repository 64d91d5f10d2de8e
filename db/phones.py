"""Phone numbers: every seeker's number is stored in E.164 (+8613800000001)."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType

# A sender as a carrier gives it: ASCII digits, perhaps after a +. Nothing else is folded.
SENDER = re.compile(r"^\+?[0-9]{5,15}$")
MOBILE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


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


# A seeker texts several times: the numbers met lately are not parsed again.
@lru_cache(maxsize=10_000)
def mobile_phone(raw: str, region: str = "CN") -> str:
    """A sender's number in E.164 if it is a valid mobile number in ASCII digits, else BadPhone.

    Short codes (10086, 95588) and numbers in other digits are refused: a reply to them
    would be a paid, failed text, or would reach someone else.
    """
    sender = raw.strip()
    if not SENDER.match(sender):
        raise BadPhone("not a mobile number in ASCII digits")
    try:
        number = phonenumbers.parse(sender, region)
    except phonenumbers.NumberParseException as error:
        raise BadPhone("not a phone number") from error
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in MOBILE:
        raise BadPhone("not a valid mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str) -> str:
    """A phone number safe for logs: +86138****0001."""
    if len(phone) <= 8:
        return "*" * len(phone)
    # The country code and the operator's prefix, then the last 4 digits.
    shown = 6 if phone.startswith("+") else 3
    return phone[:shown] + "*" * (len(phone) - shown - 4) + phone[-4:]
