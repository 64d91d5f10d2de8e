"""Registration: name and birth year, gender, district, work wanted, alerts, then confirm."""

from __future__ import annotations

import re
from typing import Any

from flows.answers import (
    validate_birth_year,
    validate_gender,
    validate_interests,
    validate_name,
    validate_place,
    yes_no,
)
from flows.base import Accepted, Outcome, Question, QuestionFlow, Rejected
from flows.effects import SaveProfile
from flows.local_names import joined, local_name, place_name
from flows.types import Context, Profile, Reply, State, Turn, reply
from nlu.parse import Parse

YES_NO_BUTTONS = ("1 Yes", "2 No")
# Chat-app buttons for the numbered lists (typing "1 4" still picks several kinds of work).
WORK_BUTTONS = (
    "1 Cleaning",
    "2 Security",
    "3 Traffic helper",
    "4 Cooking",
    "5 Care",
    "6 Driver",
    "7 Factory",
    "8 Farming",
)
ANSWER_BUTTONS = (
    "1 Name",
    "2 Birth year",
    "3 Man/Woman",
    "4 District",
    "5 Work",
    "6 Job texts",
)
# The concession card is asked when it matters (the loan questions), not here.
SLOTS = ("name", "birth_year", "gender", "district", "interests", "alerts")
# "Wang Fang 1975", "王芳1975年", "Li Hua, 52": a name, then a year or an age.
NAME_AND_YEAR = re.compile(r"(?P<name>.*?\D)[\s,，]*(?P<year>\d{4}|\d{2})\s*[年岁]?")


def profile_answers(profile: Profile) -> dict[str, Any]:
    """A registered seeker's stored answers, as registration slots."""
    return {
        "name": profile.name,
        "birth_year": profile.birth_year,
        "gender": profile.gender,
        "district": profile.district,
        "interests": list(profile.interests),
        "alerts": profile.alerts,
    }


def _yes_no_outcome(parse: Parse, retry: str) -> Outcome:
    answer = yes_no(parse)
    return None if answer is None else Accepted(answer)


def _summary(ctx: Context, state: State) -> Reply:
    a = state.answers
    catalogue_words = {True: Reply("word_yes"), False: Reply("word_no")}
    genders = {"man": Reply("word_man"), "woman": Reply("word_woman")}
    names = [ctx.reference.category(slug) for slug in a.get("interests") or []]
    language = ctx.profile.language
    return reply(
        "reg_summary",
        "1 Save",
        "2 Change",
        name=a.get("name"),
        birth_year=a.get("birth_year"),
        gender=genders.get(a.get("gender") or "", a.get("gender")),
        district=place_name(ctx.reference, a.get("district") or "", language),
        interests=joined([local_name(c, language) for c in names if c is not None], language),
        alerts=catalogue_words[bool(a.get("alerts"))],
    )


def _name_and_year(ctx: Context, text: str) -> tuple[str, int] | None:
    """('Wang Fang', 1975) from 'Wang Fang 1975', or None unless both parts are good answers."""
    found = NAME_AND_YEAR.fullmatch(text.strip())
    if found is None:
        return None
    name = validate_name(found["name"].strip(" ,，"))
    year = validate_birth_year(found["year"], ctx.now)
    if isinstance(name, Accepted) and isinstance(year, Accepted):
        return name.value, year.value
    return None


def _confirm(ctx: Context, state: State, parse: Parse) -> Outcome:
    if parse.entity("number") == "1" or parse.intent == "affirm":
        return Accepted("save")
    if parse.entity("number") == "2" or parse.intent in ("deny", "update_profile"):
        return Accepted("change")
    return None


def _which(ctx: Context, state: State, parse: Parse) -> Outcome:
    number = parse.entity("number")
    if number is not None and 1 <= int(number) <= len(SLOTS):
        return Accepted(SLOTS[int(number) - 1])
    return Rejected(Reply("which_answer_retry")) if number is not None else None


def _only_when_changing(ctx: Context, state: State) -> bool:
    return state.answers.get("confirm") != "change"


class Registration(QuestionFlow):
    """Register a seeker, or review and change a registered seeker's answers."""

    name = "registration"
    questions = (
        Question(
            "name",
            lambda c, s: Reply("ask_name"),
            lambda c, s, p: validate_name(p.text),
            lambda c, s: Reply("name_retry"),
        ),
        Question(
            "birth_year",
            lambda c, s: reply("ask_birth_year", name=s.answers.get("name")),
            lambda c, s, p: validate_birth_year(p.text, c.now),
            lambda c, s: Reply("birth_year_retry"),
            expecting="year",
        ),
        Question(
            "gender",
            lambda c, s: reply("ask_gender", "1 Man", "2 Woman"),
            lambda c, s, p: validate_gender(p.text),
            lambda c, s: reply("gender_retry", "1 Man", "2 Woman"),
            expecting="choice",
        ),
        Question(
            "district",
            lambda c, s: Reply("ask_district"),
            lambda c, s, p: validate_place(p.text, c.reference),
            lambda c, s: Reply("district_retry"),
            expecting="place",
        ),
        Question(
            "interests",
            lambda c, s: reply("ask_interests", *WORK_BUTTONS),
            lambda c, s, p: validate_interests(p.text, c.reference),
            lambda c, s: Reply("interests_retry"),
            expecting="choice",
        ),
        Question(
            "alerts",
            lambda c, s: reply("ask_alerts", *YES_NO_BUTTONS),
            lambda c, s, p: _yes_no_outcome(p, "alerts_retry"),
            lambda c, s: reply("alerts_retry", *YES_NO_BUTTONS),
            expecting="yesno",
        ),
        Question(
            "confirm",
            _summary,
            _confirm,
            lambda c, s: reply("reg_summary_retry", "1 Save", "2 Change"),
            expecting="choice",
        ),
        Question(
            "which",
            lambda c, s: reply("ask_which_answer", *ANSWER_BUTTONS),
            _which,
            lambda c, s: Reply("which_answer_retry"),
            expecting="choice",
            skip=_only_when_changing,
        ),
    )

    def start(self, ctx: Context, state: State, parse: Parse) -> Turn:
        """New seekers start at the first question; registered ones see their answers."""
        if ctx.profile.registered and parse.intent == "update_profile":
            which = state.at(self.name, "which", **profile_answers(ctx.profile), confirm="change")
            return Turn(which, (Reply("ask_which_answer"),))
        if ctx.profile.registered:
            review = state.at(self.name, "confirm", **profile_answers(ctx.profile))
            return Turn(review, (_summary(ctx, review),))
        # The first question also says how long registration is, in the same text.
        return Turn(state.at(self.name, "name"), (Reply("reg_start"),))

    def answer(self, ctx: Context, state: State, parse: Parse) -> Turn | None:
        """Answers in order; a name with a year or an age answers the year question too."""
        if state.step == "name" and parse.intent == "register":
            return self.start(ctx, state.idle(), parse)  # "register" is not a name
        if state.step == "name":
            both = _name_and_year(ctx, parse.text)
            if both is not None:
                name, year = both
                answered = state.at(self.name, "birth_year", name=name, birth_year=year)
                return self.after(ctx, answered, "birth_year")
        return super().answer(ctx, state, parse)

    def after(self, ctx: Context, state: State, slot: str) -> Turn:
        """Go on to the next unanswered question; the answer chosen to change is asked again."""
        if slot == "which":
            # Unanswered again: the chosen answer, then the summary.
            return self.ask_next(
                ctx,
                state.at(
                    self.name, None, **{state.answers["which"]: None}, confirm=None, which=None
                ),
            )
        return super().after(ctx, state, slot)

    @staticmethod
    def _registered(state: State, name: str) -> Reply:
        """Thanks; without a next step when the engine goes straight back to a job."""
        if state.suspended is not None and state.suspended.auto:
            return reply("registered_going_back", name=name)
        return reply("registered", "1 Jobs near you", "MENU", name=name)

    def finish(self, ctx: Context, state: State) -> Turn:
        """Save the profile and thank the seeker by name."""
        a = state.answers
        profile = SaveProfile(
            name=a["name"],
            birth_year=a["birth_year"],
            gender=a["gender"],
            district=a["district"],
            interests=tuple(a["interests"]),
            alerts=bool(a["alerts"]),
            register=True,
        )
        return Turn(state.idle(), (self._registered(state, a["name"]),), (profile,))
