"""A seeker who changes topic in the middle of a flow, and comes back to it."""

from __future__ import annotations

from tests.fakes.engine import EngineSeeker
from tests.fakes.seekers import register


def test_a_detour_from_browsing_jobs_costs_no_extra_text(seeker: EngineSeeker) -> None:
    """Browsing is not a task left half done: no "go on where you were?" text after it."""
    register(seeker)
    seeker.send("jobs")
    assert seeker.says("more").startswith("Jobs in Daoli (4-5 of 5)")
    assert "business idea" in seeker.says("loan")
    answer = seeker.send("1")
    assert len(answer) == 1 and "Good news" in answer[0]
    assert seeker.says("jobs").startswith("Jobs in Daoli (1-3 of 5)")


def test_registration_then_status_then_back_to_the_question(seeker: EngineSeeker) -> None:
    seeker.send("register")
    seeker.send("Wang Lei")
    assert "man or a woman" in seeker.says("1972")
    detour = seeker.says("status")
    assert "You have not applied" in detour and "go on where you were before?" in detour
    assert "man or a woman" in seeker.says("1")
    assert "Which district" in seeker.says("1")


def test_loan_questions_then_fairs_then_back(seeker: EngineSeeker) -> None:
    seeker.send("loan")
    assert "registered as laid off" in seeker.says("1")
    assert "Job fairs coming up" in seeker.says("fairs")
    seeker.send("1")
    joined = seeker.says("join")
    assert "remind you" in joined and "go on where you were before?" in joined
    assert "registered as laid off" in seeker.says("1")
