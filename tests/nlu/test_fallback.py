"""With Rasa down, the common requests are still recognised from their words."""

from __future__ import annotations

import pytest

from bot.conversation import Jobline
from nlu.understand import Understander
from tests.conftest import Seeker

# Written for this test (not the held-out sets): what seekers ask while Rasa is away.
ASKED = [
    ("I am looking for cleaning work", "find_jobs"),
    ("any job for a man of 55 in daoli", "find_jobs"),
    ("need wrk near nangang", "find_jobs"),
    ("我想找保洁的工作", "find_jobs"),
    ("南岗有没有保安的活", "find_jobs"),
    ("can I get a loan to open a noodle stall", "loan_eligibility"),
    ("我想贷款开个小店", "loan_eligibility"),
    ("when is the next job fair", "job_fair"),
    ("哈尔滨什么时候有招聘会", "job_fair"),
    ("how do I sign up", "register"),
    ("i want to register my wife", "register"),
    ("我要登记", "register"),
    ("what is the weather tomorrow", "out_of_scope"),
    ("how do i top up my bank card", "out_of_scope"),
]


@pytest.mark.parametrize(("said", "meant"), ASKED)
def test_common_requests_are_recognised_without_rasa(said: str, meant: str) -> None:
    parse = Understander(None).understand(said)
    assert (parse.intent, parse.source) == (meant, "fallback")


def test_a_seeker_asking_for_work_gets_work_with_rasa_down(jobline: Jobline) -> None:
    assert jobline.understander.degraded
    seeker = Seeker(jobline, phone="+8613800000041")
    answer = seeker.says("I am looking for cleaning work in Daoli")
    assert "Cleaning jobs in all of Harbin" in answer and "1 Road cleaner" in answer, answer
    assert "Reply a number to see a job" in answer
