"""Pure validators for answers seekers type: names, years, yes/no, places, kinds of work."""

from __future__ import annotations

import re
from datetime import datetime

from flows.base import Accepted, NearMiss, Outcome, Rejected
from flows.types import Reply, reply
from nlu.keywords import match_option, normalize
from nlu.parse import Parse
from reference import Reference

YES_NO = {
    True: ["1", "yes", "y", "yeah", "ok", "have", "i have", "是", "有"],
    False: ["2", "no", "n", "nope", "none", "dont", "don't", "not", "否", "没有"],
}
GENDERS = {
    "man": ["1", "man", "male", "m", "men", "boy", "gentleman", "男"],
    "woman": ["2", "woman", "female", "f", "women", "lady", "girl", "女"],
}
# The numbered kinds of work offered in registration (0 and 9 are reserved everywhere).
INTEREST_NUMBERS = {
    "1": "cleaning",
    "2": "security",
    "3": "traffic",
    "4": "cooking",
    "5": "care",
    "6": "driver",
    "7": "factory",
    "8": "farming",
}
_NAME = re.compile(r"^[^\W\d_]+(?:[ '.\-·][^\W\d_]+)*$")
MAX_NAME = 30
MAX_NAME_WORDS = 4
OLDEST_AGE = 90
YOUNGEST_AGE = 15


def yes_no(parse: Parse) -> bool | None:
    """True for yes/1, False for no/2, None otherwise."""
    if parse.intent == "affirm":
        return True
    if parse.intent == "deny":
        return False
    found = match_option(
        parse.text, {"yes": [str(a) for a in YES_NO[True]], "no": [str(a) for a in YES_NO[False]]}
    )
    return None if found is None else found == "yes"


def validate_name(text: str) -> Outcome:
    """A name in letters (any script), at most 30 characters."""
    name = " ".join(text.split())
    too_many_words = len(name.split()) > MAX_NAME_WORDS
    if not name or len(name) > MAX_NAME or too_many_words or not _NAME.match(name):
        return Rejected(Reply("name_retry"))
    return Accepted(name.title() if name.islower() else name)


def validate_birth_year(text: str, now: datetime) -> Outcome:
    """A birth year (1972) or an age (52); None when the text has no number at all."""
    digits = re.findall(r"\d+", normalize(text))
    if not digits:
        return None
    number = int(digits[0])
    year = number if len(digits[0]) == 4 else now.year - number
    if not now.year - OLDEST_AGE <= year <= now.year - YOUNGEST_AGE or len(digits) > 1:
        return Rejected(Reply("birth_year_retry"))
    return Accepted(year)


def validate_gender(text: str) -> Outcome:
    """Man or woman, by number or word."""
    found = match_option(text, GENDERS)
    return None if found is None else Accepted(found)


def validate_place(text: str, reference: Reference) -> Outcome:
    """A known place; a near miss is confirmed, an unknown one gets suggestions."""
    if not normalize(text):
        return None
    match = reference.match_place(text)
    if match.value is not None and match.exact:
        return Accepted(match.value)
    if match.value is not None:
        return NearMiss(match.value, reply("district_confirm", "1 Yes", "2 No", place=match.value))
    if match.suggestions:
        return Rejected(Reply("district_unknown", {"suggestions": ", ".join(match.suggestions)}))
    return Rejected(Reply("district_retry"))


def validate_interests(text: str, reference: Reference) -> Outcome:
    """One or more kinds of work, by number (1-8) or by word."""
    chosen: list[str] = []
    for token in re.split(r"[\s,;/+&]+|\band\b", normalize(text)):
        if not token:
            continue
        slug = INTEREST_NUMBERS.get(token)
        if slug is None:
            match = reference.match_category(token)
            slug = match.value
        if slug is None:
            continue
        if slug not in chosen:
            chosen.append(slug)
    if not chosen:
        return Rejected(Reply("interests_retry"))
    return Accepted(chosen)
