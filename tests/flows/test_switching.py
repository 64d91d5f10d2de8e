"""A seeker who changes topic in the middle of a flow, and comes back to it."""

from __future__ import annotations

from tests.conftest import Seeker
from tests.flows.test_registration import register


def test_jobs_list_then_loan_then_back_to_the_same_page(seeker: Seeker) -> None:
    register(seeker)
    seeker.send("jobs")
    page_two = seeker.says("more")
    assert page_two.startswith("Jobs in Daoli (4-5 of 5)")
    assert "business idea" in seeker.says("loan")
    answer = seeker.says("1")
    assert "Good news" in answer and "go on where you were before?" in answer
    assert seeker.says("1") == page_two
    assert seeker.says("2").startswith("Vegetable delivery driver")


def test_registration_then_status_then_back_to_the_question(seeker: Seeker) -> None:
    seeker.send("register")
    seeker.send("Wang Lei")
    assert "man or a woman" in seeker.says("1972")
    detour = seeker.says("status")
    assert "You have not applied" in detour and "go on where you were before?" in detour
    assert "man or a woman" in seeker.says("1")
    assert "Which district" in seeker.says("1")


def test_loan_questions_then_fairs_then_back(seeker: Seeker) -> None:
    seeker.send("loan")
    assert "registered as laid off" in seeker.says("1")
    assert "Job fairs coming up" in seeker.says("fairs")
    seeker.send("1")
    joined = seeker.says("join")
    assert "remind you" in joined and "go on where you were before?" in joined
    assert "registered as laid off" in seeker.says("1")
