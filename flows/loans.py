"""Loan eligibility: a few yes/no questions over the rules in config.yaml, then the answer."""

from __future__ import annotations

from typing import Any

from flows.answers import yes_no
from flows.base import missed
from flows.catalogue import render
from flows.effects import Effect, SaveProfile
from flows.jobs import FREE_TEXT
from flows.loan_rules import ELIGIBLE, NOT_ELIGIBLE, Known, Rules, Verdict, decide
from flows.oneshot import ended
from flows.types import Context, Reply, State, Turn, reply
from nlu.keywords import match_option
from nlu.parse import Parse

# The question for each condition a rule can use (flows/config.LOAN_CONDITIONS).
QUESTIONS = {
    "laid_off": "loan_ask_laid_off",
    "card": "loan_ask_card",
    "age_4050": "loan_ask_age_4050",
    "business": "loan_ask_business",
}
# Answers kept in the profile, so they are not asked again next time.
UNSURE = ["3", "not sure", "unsure", "dont know", "don't know", "do not know", "maybe", "不知道"]
BUTTONS = ("1 Yes", "2 No", "3 Not sure")
RESULT_KEYS = {ELIGIBLE: "loan_eligible", NOT_ELIGIBLE: "loan_not_eligible"}


def from_profile(ctx: Context) -> dict[str, bool]:
    """What the profile already answers: the card, laid off, and 4050 from age and gender."""
    profile = ctx.profile
    known: dict[str, bool] = {}
    if profile.concession_card is not None:
        known["card"] = profile.concession_card
    if profile.laid_off is not None:
        known["laid_off"] = profile.laid_off
    if profile.birth_year is not None and profile.gender in ("man", "woman"):
        loans = ctx.settings.loans
        age = ctx.now.year - profile.birth_year
        known["age_4050"] = age >= (loans.women_age if profile.gender == "woman" else loans.men_age)
    return known


def _values(ctx: Context) -> dict[str, Any]:
    loans = ctx.settings.loans
    return {"women_age": loans.women_age, "men_age": loans.men_age}


def ask(ctx: Context, condition: str, first: bool = False) -> Reply:
    """The question for one condition; the first one says what the loan is."""
    question = reply(QUESTIONS[condition], *BUTTONS, **_values(ctx))
    if not first:
        return question
    amount = f"{ctx.settings.loans.max_amount_yuan:,}"
    return reply("loan_intro", *BUTTONS, amount=amount, question=question)


def phrases(ctx: Context, conditions: tuple[str, ...], holds: bool) -> str:
    """'you have the card and you have a business plan'."""
    prefix = "loan_has_" if holds else "loan_lacks_"
    parts = [render(prefix + c, ctx.profile.language, **_values(ctx)) for c in conditions]
    return render("loan_and", ctx.profile.language).join(parts)


class LoanEligibility:
    """Ask only what the profile does not answer, then say eligible, probably or not."""

    name = "loans"

    def rules(self, ctx: Context) -> Rules:
        """The rules from settings."""
        return Rules.from_settings(ctx.settings.loans)

    def start(self, ctx: Context, state: State, parse: Parse) -> Turn:
        """Decide from the profile, or ask the first question it does not answer."""
        known: dict[str, bool | None] = dict(from_profile(ctx))
        return self._next(ctx, state.at(self.name, None, loan=known, asked=[]), first=True)

    def _next(self, ctx: Context, state: State, first: bool = False) -> Turn:
        known: Known = state.answers["loan"]
        verdict = decide(self.rules(ctx), known)
        if verdict.ask is not None:
            asking = state.at(self.name, verdict.ask)
            return Turn(asking, (ask(ctx, verdict.ask, first),))
        return self._result(ctx, state, verdict)

    def _result(self, ctx: Context, state: State, verdict: Verdict) -> Turn:
        office = ctx.settings.office
        loans = ctx.settings.loans
        outcome = verdict.outcome or NOT_ELIGIBLE
        why: dict[str, Reply] = {}
        if outcome == NOT_ELIGIBLE:
            why["why_not"] = reply("loan_reason_no", reasons=phrases(ctx, verdict.because, False))
        elif outcome == ELIGIBLE:
            why["why_yes"] = reply("loan_reason_yes", reasons=phrases(ctx, verdict.because, True))
        else:
            why["why_yes"] = reply("loan_reason_check", reasons=phrases(ctx, verdict.because, True))
        answer = reply(
            RESULT_KEYS.get(outcome, "loan_probably"),
            "9 Talk to a person",
            "MENU",
            amount=f"{loans.max_amount_yuan:,}",
            **why,
            documents=loans.documents,
            office=office.name,
            address=office.address,
            office_hours=office.hours,
        )
        return Turn(ended(state), (answer,), self._save(state))

    def _save(self, state: State) -> tuple[Effect, ...]:
        asked = set(state.answers.get("asked") or [])
        known: Known = state.answers["loan"]

        def told(condition: str) -> bool | None:
            return known.get(condition) if condition in asked else None

        profile = SaveProfile(laid_off=told("laid_off"), concession_card=told("card"))
        return (profile,) if profile != SaveProfile() else ()

    def answer(self, ctx: Context, state: State, parse: Parse) -> Turn | None:
        """1 yes, 2 no, 3 not sure (numbers and words)."""
        condition = state.step or ""
        if condition not in QUESTIONS:
            return None
        value: bool | None
        if parse.entity("number") == "3" or match_option(parse.text, {"unsure": UNSURE}):
            value = None
        else:
            value = yes_no(parse)
            if value is None:
                if parse.intent in (*FREE_TEXT, "number", "affirm", "deny"):
                    return missed(state, Reply("loan_retry"))
                return None
        known = {**state.answers["loan"], condition: value}
        asked = [*(state.answers.get("asked") or []), condition]
        return self._next(ctx, state.at(self.name, condition, loan=known, asked=asked))

    def back(self, ctx: Context, state: State) -> Turn | None:
        """Ask the previous question again."""
        asked: list[str] = list(state.answers.get("asked") or [])
        if not asked:
            return None
        previous = asked.pop()
        known = {k: v for k, v in state.answers["loan"].items() if k != previous}
        again = state.at(self.name, previous, loan=known, asked=asked)
        return Turn(again, (ask(ctx, previous),))

    def retry(self, ctx: Context, state: State) -> Reply:
        """How to answer."""
        return Reply("loan_retry")

    def ask_current(self, ctx: Context, state: State) -> Reply:
        """The current question again."""
        return ask(ctx, state.step or "business")

    def expecting(self, state: State) -> str:
        """1, 2 or 3."""
        return "choice"
