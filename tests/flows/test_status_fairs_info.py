"""Job fairs, the card and training, as transcripts."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import Clock
from tests.fakes.engine import EngineSeeker
from tests.fakes.seekers import register


def test_fairs_soonest_first_details_and_join(seeker: EngineSeeker, clock: Clock) -> None:
    fairs = seeker.store
    fairs.add_fair(
        "Fuyu Spring Fair", clock.now + timedelta(days=3), "Fuyu Culture Centre", "Fuyu", 40, 600
    )
    fairs.add_fair("Fair that is over", clock.now - timedelta(days=1), "Old Hall", "Daoli", 0, 0)
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
    assert len(seeker.store.joined_fairs) == 1


def test_fairs_in_the_seekers_own_city_come_first(seeker: EngineSeeker, clock: Clock) -> None:
    seeker.store.add_fair(
        "Fuyu Spring Fair", clock.now + timedelta(days=3), "Fuyu Culture Centre", "Fuyu", 0, 0
    )
    register(seeker)  # lives in Daoli, Harbin
    listing = seeker.says("fairs")
    assert listing.index("Harbin International Expo Hall") < listing.index("Fuyu Culture")


def test_join_with_one_fair_and_no_fairs(seeker: EngineSeeker) -> None:
    assert "We will remind you about" in seeker.says("join")
    seeker.store.joined_fairs.clear()
    seeker.store.fairs_by_id.clear()
    assert "no job fairs planned" in seeker.says("fairs")


def test_card_and_training(seeker: EngineSeeker) -> None:
    card = seeker.says("6")
    assert "concession card gives you, free: job registration, career advice" in card
    assert "social insurance" in card and "Reply 1 for how to get it, 2 for training" in card
    how = seeker.says("1")
    assert "go to Harbin Re-employment Service Centre, 88 Zhongshan Road" in how
    training = seeker.says("2")
    assert "Free training with the card" in training and "To sign up" in training
    assert seeker.says("training").startswith("Free training")
    assert "Which district or county" in seeker.says("1")
