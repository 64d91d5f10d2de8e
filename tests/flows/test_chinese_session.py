"""A Chinese seeker reads Chinese everywhere: names, dates, command words and buttons."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select

from bot.database import Database
from db.models import Application, JobFair, OutboxMessage
from flows.dates import clock_time, date_and_time, day_month
from notify.outbox import buttons_of
from tests.conftest import Seeker

# Everything a new seeker might do in a first session, with one wrong answer on the way.
SESSION = [
    "你好",
    "王芳1975",
    "女",
    "松北区",
    "好",
    "1 4",
    "是",
    "1",
    "1",
    "更多",
    "1",
    "1",
    "状态",
    "菜单",
    "3",
    "1",
    "报名",
    "菜单",
    "6",
    "2",
    "菜单",
    "4",
    "1",
    "菜单",
    "5",
    "1",
    "谢谢",
]
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def test_a_chinese_seekers_whole_session_has_no_english_word(
    seeker: Seeker, database: Database
) -> None:
    texts = [text for message in SESSION for text in seeker.send(message)]
    assert any("松北没有" in text for text in texts)  # the list widened, and said so in Chinese
    assert any(text.startswith("交通协管员\n单位：哈尔滨交警支队") for text in texts)
    assert any("12月" in text and "上午9点" in text for text in texts)
    with database.sessions() as session:
        fairs = session.scalars(select(JobFair)).all()
        labels = session.scalars(select(OutboxMessage.buttons)).all()
        references = set(session.scalars(select(Application.reference)))
    # The fair's own name and hall have no Chinese form in the office's data, and an application
    # reference is a code: they may stay.
    names = {word for fair in fairs for word in LATIN_WORD.findall(f"{fair.name} {fair.venue}")}
    read = [re.sub("|".join(references), "", text) for text in texts]
    english = {word for text in read for word in LATIN_WORD.findall(text)} - names
    assert english == set(), english
    words = {button.label for stored in labels for button in buttons_of(stored)}
    assert "1 是" in words and "菜单" in words
    assert {word for label in words for word in LATIN_WORD.findall(label)} == set()


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
