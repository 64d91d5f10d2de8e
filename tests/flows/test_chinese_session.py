"""Dates and times the Chinese way; the whole Chinese session is in tests/bot/test_transcripts."""

from __future__ import annotations

from datetime import datetime

import pytest

from flows.dates import clock_time, date_and_time, day_month


@pytest.mark.parametrize(
    ("hour", "minute", "chinese", "english"),
    [
        (9, 0, "上午9点", "9:00"),
        (12, 0, "中午12点", "12:00"),
        (14, 30, "下午2点30分", "14:30"),
        (19, 0, "晚上7点", "19:00"),
    ],
)
def test_times_the_chinese_way(hour: int, minute: int, chinese: str, english: str) -> None:
    moment = datetime(2026, 12, 20, hour, minute)
    assert (clock_time(moment, "zh"), clock_time(moment, "en")) == (chinese, english)


def test_dates_the_chinese_way() -> None:
    saturday = datetime(2026, 12, 19, 9, 0)
    assert date_and_time(saturday, "zh") == "12月19日 周六 上午9点"
    assert date_and_time(saturday, "en") == "Sat 19 Dec, 9:00"
    assert (day_month(saturday, "zh"), day_month(saturday, "en")) == ("12月19日", "19 Dec")
