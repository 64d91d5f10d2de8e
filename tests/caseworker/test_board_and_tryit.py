"""The applications board, and the pretend seekers of "Try it"."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.conversation import Jobline
from bot.database import Database
from caseworker.casework import board, set_stage
from caseworker.tryit import all_test_seekers, find_test_seeker, new_test_seeker, phone_screen
from db.models import OutboxMessage, Seeker
from db.session import transaction
from tests.conftest import Clock
from tests.conftest import Seeker as Texter
from tests.fakes.seekers import apply_for, register


def apply(texter: Texter) -> str:
    register(texter)
    return apply_for(texter, "2")


def test_the_board_has_a_column_per_stage_and_leaves_out_test_seekers(
    jobline: Jobline, database: Database, clock: Clock
) -> None:
    real = apply(Texter(jobline))
    with transaction(database.sessions) as session:
        pretend = new_test_seeker(session, "en", clock.now).phone
    assert pretend is not None
    apply(Texter(jobline, pretend))
    with transaction(database.sessions) as session:
        set_stage(session, real, "interview", clock.now)
    with database.sessions() as session:
        columns = board(session)
    assert [column.stage for column in columns] == [
        "submitted",
        "seen",
        "interview",
        "hired",
        "not_selected",
    ]
    assert [column.total for column in columns] == [0, 0, 1, 0, 0]
    assert [card.reference for card in columns[2].cards] == [real]


def test_a_test_seeker_talks_to_jobline_on_the_phone_screen(
    jobline: Jobline, database: Database, clock: Clock
) -> None:
    with transaction(database.sessions) as session:
        first = new_test_seeker(session, "en", clock.now)
        second = new_test_seeker(session, "zh", clock.now)
        assert (first.phone, second.phone) == ("+8610000000001", "+8610000000002")
        second_id = second.id
    texter = Texter(jobline, "+8610000000002")
    answer = texter.says("hello")
    with database.sessions() as session:
        seeker = find_test_seeker(session, second_id)
        screen = phone_screen(session, seeker)
        assert [s.phone for s in all_test_seekers(session)] == ["+8610000000002", "+8610000000001"]
        seekers = session.scalar(select(func.count()).select_from(Seeker))
        delivered = session.scalar(select(func.count()).where(OutboxMessage.status == "delivered"))
    assert seekers == 2  # the console phone found its test seeker; no new seeker
    assert screen[0].direction == "in" and screen[0].text == "hello"
    assert "\n".join(line.text for line in screen[1:]) == answer and delivered == len(screen) - 1


def test_each_column_of_the_board_pages_by_itself(
    jobline: Jobline, database: Database, clock: Clock
) -> None:
    references = [apply(Texter(jobline, f"+86139000001{n:02d}")) for n in range(5)]
    with transaction(database.sessions) as session:
        for minutes, reference in enumerate(references):
            set_stage(session, reference, "seen", clock.now + timedelta(minutes=minutes))
        pretend = new_test_seeker(session, "en", clock.now).phone
    assert pretend is not None
    hidden = apply(Texter(jobline, pretend))
    with transaction(database.sessions) as session:
        set_stage(session, hidden, "seen", clock.now + timedelta(hours=1))
    with database.sessions() as session:
        pages = [board(session, 2, {"seen": page}) for page in (1, 2, 3, 99)]
    seen = [[card.reference for card in columns[1].cards] for columns in pages]
    newest = references[::-1]
    assert seen == [newest[:2], newest[2:4], newest[4:], newest[4:]]  # 99 is the last page
    assert [(columns[1].page, columns[1].pages, columns[1].total) for columns in pages] == [
        (1, 3, 5),
        (2, 3, 5),
        (3, 3, 5),
        (3, 3, 5),
    ]
