"""SMS cost: segment counts at every boundary, and look-alike characters that would force UCS-2."""

from __future__ import annotations

import pytest

from notify.sms import GSM7_BASIC, GSM7_EXTENSION, is_gsm7, make_sms_safe, segments, septets

# text -> segments it costs
SEGMENT_CASES = [
    ("empty", "", 1),
    ("GSM-7, 1 char", "a", 1),
    ("GSM-7, 160", "a" * 160, 1),
    ("GSM-7, 161", "a" * 161, 2),
    ("GSM-7, 306 = 2 x 153", "a" * 306, 2),
    ("GSM-7, 307", "a" * 307, 3),
    ("GSM-7, 459 = 3 x 153", "a" * 459, 3),
    ("GSM-7, 460", "a" * 460, 4),
    ("extension counts 2: 80 euros = 160", "€" * 80, 1),
    ("extension counts 2: 159 + 1 brace = 161", "a" * 159 + "{", 2),
    ("extension counts 2: 158 + 1 brace = 160", "a" * 158 + "[", 1),
    ("GSM-7 accents stay GSM-7", "é" * 160, 1),
    ("UCS-2, 70", "工" * 70, 1),
    ("UCS-2, 71", "工" * 71, 2),
    ("UCS-2, 134 = 2 x 67", "工" * 134, 2),
    ("UCS-2, 135", "工" * 135, 3),
    ("UCS-2, 201 = 3 x 67", "工" * 201, 3),
    ("one Chinese char makes all UCS-2", "a" * 69 + "工", 1),
    ("one Chinese char makes all UCS-2, 71", "a" * 70 + "工", 2),
    ("emoji takes two UCS-2 units", "😀" * 35, 1),
    ("emoji takes two UCS-2 units, 36", "😀" * 36, 2),
    ("extension chars count 1 in UCS-2", "工" + "€" * 69, 1),
]


@pytest.mark.parametrize(
    ("name", "text", "expected"), SEGMENT_CASES, ids=[case[0] for case in SEGMENT_CASES]
)
def test_segments(name: str, text: str, expected: int) -> None:
    assert segments(text) == expected


def test_extension_characters_take_two_septets() -> None:
    assert septets(GSM7_EXTENSION) == 2 * len(GSM7_EXTENSION)
    assert septets(GSM7_BASIC) == len(GSM7_BASIC)
    assert is_gsm7(GSM7_BASIC + GSM7_EXTENSION)


# what a caseworker typed -> what is sent
SAFE_CASES = [
    ("curly quotes", "\u201cWang\u201d said \u2018ok\u2019", "\"Wang\" said 'ok'"),
    ("long dashes", "8:30\u201317:00 \u2014 Mon", "8:30-17:00 - Mon"),
    ("non-breaking spaces", "88\u00a0Zhongshan\u202fRoad", "88 Zhongshan Road"),
    ("ellipsis", "More\u2026", "More..."),
    ("Chinese is left alone", "哈尔滨 \u201c招聘会\u201d", '哈尔滨 "招聘会"'),
    ("plain text unchanged", "Reply 1 for Yes", "Reply 1 for Yes"),
]


@pytest.mark.parametrize(
    ("name", "typed", "sent"), SAFE_CASES, ids=[case[0] for case in SAFE_CASES]
)
def test_make_sms_safe(name: str, typed: str, sent: str) -> None:
    assert make_sms_safe(typed) == sent


def test_one_curly_quote_would_have_tripled_the_cost() -> None:
    typed = "Job fair \u201ctomorrow\u201d at 9:00, " + "x" * 120
    assert segments(typed) == 3
    assert segments(make_sms_safe(typed)) == 1
    assert is_gsm7(make_sms_safe(typed))
