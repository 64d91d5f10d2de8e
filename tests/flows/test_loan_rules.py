"""Loan rules from the policy, as a table: answers so far -> verdict, or the next question."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings
from flows.config import LOAN_CONDITIONS, LoanGroup, LoanSettings
from flows.loan_rules import ELIGIBLE, NOT_ELIGIBLE, PROBABLY, Known, Rules, decide
from flows.loans import QUESTIONS

POLICY = Rules.from_settings(LoanSettings())
T, F, UNSURE = True, False, None

CASES = [
    # Registered laid-off or unemployed, with a feasible project.
    ({"business": T, "laid_off": T}, ELIGIBLE, ("business", "laid_off")),
    # Concession-card holders.
    ({"business": T, "laid_off": F, "card": T}, ELIGIBLE, ("business", "card")),
    # "4050" people: women 40+, men 50+.
    ({"business": T, "laid_off": F, "card": F, "age_4050": T}, ELIGIBLE, ("business", "age_4050")),
    # No feasible project: no loan, whoever they are.
    ({"business": F}, NOT_ELIGIBLE, ("business",)),
    ({"business": F, "laid_off": T, "card": T}, NOT_ELIGIBLE, ("business",)),
    # In none of the groups.
    (
        {"business": T, "laid_off": F, "card": F, "age_4050": F},
        NOT_ELIGIBLE,
        ("laid_off", "card", "age_4050"),
    ),
    # Not sure about the project: the office checks it.
    ({"business": UNSURE, "age_4050": T}, PROBABLY, ("business",)),
    ({"business": T, "laid_off": UNSURE, "card": F, "age_4050": F}, PROBABLY, ("laid_off",)),
    (
        {"business": T, "laid_off": UNSURE, "card": UNSURE, "age_4050": F},
        PROBABLY,
        ("laid_off", "card"),
    ),
]


@pytest.mark.parametrize(("known", "outcome", "because"), CASES)
def test_policy_cases(known: Known, outcome: str, because: tuple[str, ...]) -> None:
    verdict = decide(POLICY, known)
    assert (verdict.outcome, verdict.because, verdict.ask) == (outcome, because, None)


@pytest.mark.parametrize(
    ("known", "asks"),
    [
        ({}, "business"),
        ({"laid_off": T}, "business"),
        ({"business": T}, "laid_off"),
        ({"business": T, "laid_off": F}, "card"),
        ({"business": UNSURE, "laid_off": F, "card": F}, "age_4050"),
    ],
)
def test_asks_only_what_can_change_the_answer(known: Known, asks: str) -> None:
    verdict = decide(POLICY, known)
    assert (verdict.outcome, verdict.ask) == (None, asks)


def test_rules_come_from_settings_not_code() -> None:
    stricter = LoanSettings(
        groups=[LoanGroup(name="4050_laid_off", needs=["age_4050", "laid_off"])],
        required=["business", "card"],
    )
    rules = Rules.from_settings(stricter)
    assert decide(rules, {"business": T, "card": T, "age_4050": T, "laid_off": T}).outcome == (
        ELIGIBLE
    )
    assert decide(rules, {"business": T, "card": F}).outcome == NOT_ELIGIBLE
    assert decide(rules, {"business": T, "card": T, "age_4050": T}).ask == "laid_off"


def test_every_condition_has_a_question() -> None:
    assert set(QUESTIONS) == set(LOAN_CONDITIONS)


def test_unknown_condition_in_config_is_refused_with_its_name() -> None:
    with pytest.raises(SettingsError, match=r"loans\.groups"):
        load_settings(loans={"groups": [{"name": "rich", "needs": ["owns_a_car"]}]})


def test_every_text_the_services_build_from_parts_exists() -> None:
    from flows.catalogue import catalogue
    from flows.views import STAGES

    texts = catalogue("en")
    needed = {f"stage_{stage}" for stage in STAGES}
    for condition in LOAN_CONDITIONS:
        needed |= {f"loan_has_{condition}", f"loan_lacks_{condition}", QUESTIONS[condition]}
    needed |= {"jobs_kind", "jobs_kind_all", "job_line", "job_line_public", "status_line"}
    needed |= {"fair_line", "loan_and", "application_update", "caseworker_says"}
    assert needed <= set(texts)
