"""Fair alerts as a seeker sees them: the alert, then 1 or YES to say they will come."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.database import Database
from bot.settings import Settings
from db.models import Conversation, OutboxMessage, Seeker
from db.session import transaction
from notify import broadcasts
from notify.fairs import add_fair
from tests.conftest import Clock
from tests.conftest import Seeker as Texter

RSVP_THANKS = "Thank you. We have you down for the job fair. Reply MENU to see what I can do."


def announce(database: Database, settings: Settings, clock: Clock) -> int:
    """A Nangang fair announced to its segment; due now. Returns the fair id."""
    with transaction(database.sessions) as session:
        session.execute(update(Seeker).values(alerts=True, district="Nangang"))
        fair = add_fair(
            session,
            name="Nangang Spring Fair",
            starts_at=clock.now + timedelta(days=3),
            venue="Nangang Hall",
            district="Nangang",
            now=clock.now,
        )
        created = broadcasts.create(
            session, segment=broadcasts.Segment("fair"), fair_id=fair.id, now=clock.now
        )
        fair_id, broadcast_id = fair.id, created.id
    broadcasts.queue(database.sessions, broadcast_id, settings)
    with transaction(database.sessions) as session:  # the morning has come
        session.execute(update(OutboxMessage).values(not_before=clock.now - timedelta(minutes=1)))
    return fair_id


def alert_for(seeker: Texter) -> list[str]:
    assert seeker.contact_id is not None
    return [row.text for row in seeker.console.deliver(seeker.contact_id)]


def test_yes_to_an_alert_says_the_seeker_will_come(
    seeker: Texter, database: Database, settings: Settings, clock: Clock
) -> None:
    seeker.says("menu")  # a known number, no question open
    fair_id = announce(database, settings, clock)
    assert alert_for(seeker) == [
        "Job fair: Nangang Spring Fair, Sat 5 Dec, 10:00, Nangang Hall. Free entry. "
        "Reply 1 if you will come, or STOP for no more texts."
    ]
    assert seeker.says("yes") == RSVP_THANKS
    with database.sessions() as session:
        assert broadcasts.fair_counts(session, fair_id) == (1, 1)


def test_one_works_too_and_then_the_menu_is_back(
    seeker: Texter, database: Database, settings: Settings, clock: Clock
) -> None:
    seeker.says("menu")  # a known number, no question open
    fair_id = announce(database, settings, clock)
    alert_for(seeker)
    assert seeker.says("1") == RSVP_THANKS
    assert seeker.says("menu").startswith("Jobline menu.")
    with database.sessions() as session:
        assert broadcasts.fair_counts(session, fair_id) == (1, 1)


def test_an_alert_does_not_break_into_registration(
    seeker: Texter, database: Database, settings: Settings, clock: Clock
) -> None:
    assert "Your name and birth year?" in seeker.says("register")
    fair_id = announce(database, settings, clock)
    alert_for(seeker)
    assert seeker.says("Wang Lei").startswith("Thank you, Wang Lei. What year were you born?")
    with database.sessions() as session:
        conversation = session.scalar(select(Conversation))
        assert conversation is not None and conversation.flow == "registration"
        assert broadcasts.fair_counts(session, fair_id) == (0, 0)


def test_a_chinese_fair_alert_carries_a_chinese_date(
    seeker: Texter, database: Database, settings: Settings, clock: Clock
) -> None:
    seeker.says("hello")
    with transaction(database.sessions) as session:
        session.execute(update(Seeker).values(language="zh"))
    announce(database, settings, clock)
    [alert] = alert_for(seeker)
    # The test clock is Wednesday 2 Dec, 10:00 in Harbin: the fair is on Saturday 5 Dec.
    assert "12月5日 周六 上午10点" in alert, alert
    assert "Sat" not in alert and "Dec" not in alert


def test_help_is_answered_after_stop_with_how_to_come_back(seeker: Texter) -> None:
    assert "no more texts" in seeker.says("STOP")
    assert seeker.send("hello") == []
    answer = seeker.says("HELP")
    assert "Reply START" in answer and "no texts from us now" in answer
    assert seeker.send("jobs") == []
    assert "Welcome back" in seeker.says("START")
