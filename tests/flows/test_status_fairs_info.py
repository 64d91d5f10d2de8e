"""My applications, job fairs, the card and training, as transcripts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from bot.database import Database
from caseworker.casework import CaseworkError, set_stage
from db.models import Application, FairSubscription, JobFair, OutboxMessage
from db.session import transaction
from tests.conftest import Clock, Seeker
from tests.fakes.seekers import REFERENCE, register


def apply_for(seeker: Seeker, number: str) -> str:
    seeker.send("jobs")
    seeker.send(number)
    found = REFERENCE.search(seeker.says("1"))
    assert found is not None
    return found.group(1)


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


def test_fairs_soonest_first_details_and_join(
    seeker: Seeker, database: Database, clock: Clock
) -> None:
    with transaction(database.sessions) as session:
        session.add(
            JobFair(
                name="Fuyu Spring Fair",
                starts_at=clock.now + timedelta(days=3),
                venue="Fuyu Culture Centre",
                district="Fuyu",
                employers=40,
                posts=600,
            )
        )
        session.add(
            JobFair(
                name="Fair that is over",
                starts_at=clock.now - timedelta(days=1),
                venue="Old Hall",
                district="Daoli",
            )
        )
    listing = seeker.says("3")
    assert listing.startswith("Job fairs coming up:\n1 Sat 5 Dec 10:00, Fuyu Culture Centre, 40")
    assert (
        "\n2 " in listing
        and "Harbin International Expo Hall, 500 employers, 20,000 jobs" in listing
    )
    assert "Old Hall" not in listing
    assert "no fair with that number. Reply 1 to 2" in seeker.says("5")
    details = seeker.says("2")
    assert details.startswith("Re-employment Job Fair for 10,000 People\n")
    assert "Harbin International Expo Hall, Nangang\n500 employers, 20,000 jobs" in details
    assert "Reply JOIN" in details
    assert "We will remind you about Re-employment Job Fair" in seeker.says("JOIN")
    seeker.send("fair")
    seeker.send("2")
    assert "You already get a reminder" in seeker.says("join")
    with database.sessions() as session:
        assert len(list(session.scalars(select(FairSubscription)))) == 1


def test_fairs_in_the_seekers_own_city_come_first(
    seeker: Seeker, database: Database, clock: Clock
) -> None:
    with transaction(database.sessions) as session:
        session.add(
            JobFair(
                name="Fuyu Spring Fair",
                starts_at=clock.now + timedelta(days=3),
                venue="Fuyu Culture Centre",
                district="Fuyu",
            )
        )
    register(seeker)  # lives in Daoli, Harbin
    listing = seeker.says("fairs")
    assert listing.index("Harbin International Expo Hall") < listing.index("Fuyu Culture")


def test_join_with_one_fair_and_no_fairs(seeker: Seeker, database: Database) -> None:
    assert "We will remind you about" in seeker.says("join")
    with transaction(database.sessions) as session:
        session.execute(delete(FairSubscription))
        session.execute(delete(JobFair))
    assert "no job fairs planned" in seeker.says("fairs")


def test_card_and_training(seeker: Seeker) -> None:
    card = seeker.says("6")
    assert "concession card gives you, free: job registration, career advice" in card
    assert "social insurance" in card and "Reply 1 for how to get it, 2 for training" in card
    how = seeker.says("1")
    assert "go to Harbin Re-employment Service Centre, 88 Zhongshan Road" in how
    training = seeker.says("2")
    assert "Free training with the card" in training and "To sign up" in training
    assert seeker.says("training").startswith("Free training")
    assert "Which district or county" in seeker.says("1")
