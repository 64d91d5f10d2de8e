"""A few transcripts end to end, on SQLite and PostgreSQL: stored, answered, delivered.

The flows' own tests (tests/flows) talk to the pure engine; these go through the database.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.database import Database
from caseworker.casework import CaseworkError, set_stage
from db.models import Application, JobFair, OutboxMessage
from db.models import Seeker as SeekerRow
from db.session import transaction
from notify.outbox import buttons_of
from tests.conftest import Clock, Seeker
from tests.fakes.seekers import apply_for, register


def test_status_lists_applications_and_hears_of_a_stage_change(
    seeker: Seeker, database: Database, clock: Clock
) -> None:
    register(seeker)
    assert "You have not applied for a job yet" in seeker.says("status")
    assert seeker.says("1").startswith("Jobs in Daoli")
    first = apply_for(seeker, "2")
    clock.advance(days=1)
    second = apply_for(seeker, "1")
    status = seeker.says("STATUS")
    assert status.startswith("Your applications:\n")
    assert f"{second} Breakfast stall helper: sent, 3 Dec" in status
    assert f"{first} Community security guard: sent, 2 Dec" in status
    clock.advance(days=2)
    with transaction(database.sessions) as session:
        set_stage(session, first.lower(), "interview", clock.now)
    with database.sessions() as session:
        update = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "update"))
        assert update is not None
        assert update.text == (
            f"News on your application {first} for Community security guard: "
            "invited to an interview. Reply STATUS to see all your applications."
        )
    # The update reaches the seeker with the next delivery; status shows the new stage.
    replies = seeker.send("status")
    assert replies[0].startswith("News on your application")
    assert f"{first} Community security guard: invited to an interview, 5 Dec" in replies[1]


def test_a_stage_change_is_refused_for_unknown_references_and_stages(
    seeker: Seeker, database: Database, clock: Clock
) -> None:
    register(seeker)
    reference = apply_for(seeker, "2")
    with transaction(database.sessions) as session:
        with pytest.raises(CaseworkError, match="no application"):
            set_stage(session, "ZZZZ", "hired", clock.now)
        with pytest.raises(CaseworkError, match="unknown stage"):
            set_stage(session, reference, "promoted", clock.now)
        set_stage(session, reference, "not selected", clock.now)
        app = session.scalar(select(Application))
        assert app is not None and app.stage == "not_selected"


def test_stop_is_confirmed_once_then_silence_until_start(
    seeker: Seeker, database: Database
) -> None:
    seeker.send("register")
    assert "no more texts" in seeker.says("STOP")
    assert seeker.send("hello") == []
    assert seeker.send("stop") == []
    assert seeker.send("register") == []
    with database.sessions() as session:
        row = session.scalar(select(SeekerRow))
        assert row is not None and row.opted_out
    assert "Welcome back" in seeker.says("START")
    with database.sessions() as session:
        row = session.scalar(select(SeekerRow))
        assert row is not None and not row.opted_out
        sent = session.scalar(select(OutboxMessage).where(OutboxMessage.text.contains("no more")))
        assert sent is not None


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
