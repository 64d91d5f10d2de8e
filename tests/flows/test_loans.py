"""Loan eligibility by text: profile answers are not asked again; the answer says what next."""

from __future__ import annotations

from tests.fakes.engine import EngineSeeker
from tests.fakes.seekers import register


def test_registered_4050_seeker_is_asked_only_about_the_business(
    seeker: EngineSeeker,
) -> None:
    register(seeker)  # Wang Lei, a man born 1972; the card does not matter for him
    first = seeker.says("loan")
    assert first.startswith("Small loans to start a business: up to 50,000 yuan")
    assert "business idea" in first and "1 Yes, 2 No, 3 Not sure" in first
    answer = seeker.says("yes")
    assert answer.startswith("Good news: you can get a business loan of up to 50,000 yuan")
    assert "You qualify: you have a business idea and you are a woman of 40+ or a man" in answer
    assert "Bring ID card" in answer and "88 Zhongshan Road" in answer


def test_someone_in_no_group_is_told_why_and_answers_are_kept(seeker: EngineSeeker) -> None:
    seeker.send("4")
    assert "registered as laid off" in seeker.says("1")
    assert "concession card" in seeker.says("no")
    assert "woman aged 40 or more, or a man aged 50 or more" in seeker.says("2")
    answer = seeker.says("2")
    assert answer.startswith("Sorry, you cannot get the small business loan now.")
    assert "you are not registered as out of work and you have no concession card" in answer
    assert (seeker.profile.laid_off, seeker.profile.concession_card) == (False, False)
    # Next time only the business and 4050 questions remain.
    seeker.send("loan")
    assert "woman aged 40" in seeker.says("1")


def test_no_business_idea_is_answered_at_once(seeker: EngineSeeker) -> None:
    seeker.send("loan")
    answer = seeker.says("2")
    assert "cannot get" in answer and "you need a business idea that can work" in answer
    assert "Reply 6" in answer
    assert "re-employment concession card gives you" in seeker.says("6")


def test_not_sure_gives_probably_and_what_the_office_checks(seeker: EngineSeeker) -> None:
    register(seeker)
    answer = seeker.says("loan") and seeker.says("not sure")
    assert answer.startswith("You can probably get a business loan")
    assert "The office will check that you have a business idea." in answer


def test_back_and_wrong_answers_in_the_loan_questions(seeker: EngineSeeker) -> None:
    seeker.send("loan")
    seeker.send("1")
    assert "business idea" in seeker.says("0")
    assert "Reply 1 for Yes, 2 for No, 3 if you are not sure" in seeker.says("purple")
    assert "registered as laid off" in seeker.says("1")
