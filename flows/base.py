"""What a flow is, and a generic one-question-at-a-time flow that most flows build on."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from flows.types import Context, Reply, State, Turn, reply
from nlu.parse import Parse


class Flow(Protocol):
    """A conversation: starts, takes one answer per turn, can step back, re-asks on a miss."""

    name: str

    def start(self, ctx: Context, state: State, parse: Parse) -> Turn:
        """Begin the flow (state has no active flow)."""
        ...

    def answer(self, ctx: Context, state: State, parse: Parse) -> Turn | None:
        """Take the seeker's answer to the current step; None when it is not an answer."""
        ...

    def back(self, ctx: Context, state: State) -> Turn | None:
        """Go one step back; None when already at the first step."""
        ...

    def retry(self, ctx: Context, state: State) -> Reply:
        """The re-ask, with an example, after an answer that did not fit."""
        ...

    def expecting(self, state: State) -> str:
        """What the current step expects: text, choice, yesno or year."""
        ...

    def ask_current(self, ctx: Context, state: State) -> Reply:
        """Ask the current step's question again (when coming back to the flow)."""
        ...


@dataclass(frozen=True)
class Accepted:
    """A valid answer, already in its stored form."""

    value: Any


@dataclass(frozen=True)
class NearMiss:
    """A likely answer the seeker must confirm (1 Yes, 2 No)."""

    value: Any
    confirm: Reply


@dataclass(frozen=True)
class Rejected:
    """Not a valid answer; the reply says what to send instead."""

    retry: Reply


Outcome = Accepted | NearMiss | Rejected | None
Validator = Callable[[Context, State, Parse], Outcome]


@dataclass(frozen=True)
class Question:
    """One question: its slot, how to ask, how to read the answer, what it expects."""

    slot: str
    ask: Callable[[Context, State], Reply]
    validate: Validator
    retry: Callable[[Context, State], Reply]
    expecting: str = "text"
    skip: Callable[[Context, State], bool] | None = None


def missed(state: State, retry: Reply) -> Turn:
    """A wrong answer: count it and re-ask (the engine adds the offer of a person)."""
    return Turn(replace(state, misses=state.misses + 1), (retry,), missed=True)


class QuestionFlow(ABC):
    """Asks questions in order, one per message, then finishes with the answers."""

    name = "questions"
    questions: tuple[Question, ...] = ()

    @abstractmethod
    def finish(self, ctx: Context, state: State) -> Turn:
        """All questions answered."""
        ...

    def question(self, slot: str | None) -> Question | None:
        """The question for a step name."""
        base = (slot or "").split(":")[0]
        return next((q for q in self.questions if q.slot == base), None)

    def start(self, ctx: Context, state: State, parse: Parse) -> Turn:
        """Ask the first question not answered yet."""
        return self.ask_next(ctx, state.at(self.name, None))

    def ask_next(self, ctx: Context, state: State) -> Turn:
        """Ask the first question not answered yet (nor skipped); finish when none is left."""
        # As rasa-sdk's FormValidationAction: the answers decide what comes next, so clearing an
        # answer is all it takes to ask that question again.
        for question in self.questions:
            if state.answers.get(question.slot) is not None:
                continue
            if question.skip is not None and question.skip(ctx, state):
                continue
            asked = state.at(self.name, question.slot)
            return Turn(asked, (question.ask(ctx, asked),))
        return self.finish(ctx, state)

    def after(self, ctx: Context, state: State, slot: str) -> Turn:
        """Move on from an answered question."""
        return self.ask_next(ctx, state)

    def answer(self, ctx: Context, state: State, parse: Parse) -> Turn | None:
        """Validate the answer to the current question and move on."""
        question = self.question(state.step)
        if question is None:
            return None
        if (state.step or "").endswith(":confirm"):
            return self._confirm(ctx, state, question, parse)
        outcome = question.validate(ctx, state, parse)
        if isinstance(outcome, Accepted):
            return self.after(
                ctx,
                state.at(self.name, state.step, **{question.slot: outcome.value}),
                question.slot,
            )
        if isinstance(outcome, NearMiss):
            pending = replace(
                state.at(self.name, f"{question.slot}:confirm"), pending=outcome.value
            )
            return Turn(pending, (outcome.confirm,))
        if isinstance(outcome, Rejected):
            return missed(state, outcome.retry)
        return None

    def _confirm(self, ctx: Context, state: State, question: Question, parse: Parse) -> Turn | None:
        if parse.intent == "affirm" or parse.entity("number") == "1":
            value = state.pending
            done = replace(
                state.at(self.name, question.slot, **{question.slot: value}), pending=None
            )
            return self.after(ctx, done, question.slot)
        if parse.intent == "deny" or parse.entity("number") == "2":
            again = replace(state.at(self.name, question.slot), pending=None)
            return Turn(again, (question.ask(ctx, again),))
        return None

    def back(self, ctx: Context, state: State) -> Turn | None:
        """Re-ask the previous question that was asked."""
        current = self.question(state.step)
        if current is None:
            return None
        if (state.step or "").endswith(":confirm"):
            return Turn(state.at(self.name, current.slot), (current.ask(ctx, state),))
        index = self.questions.index(current)
        for earlier, question in reversed(list(enumerate(self.questions[:index]))):
            if question.skip is not None and question.skip(ctx, state):
                continue
            # That question and the ones after it are asked again, in order.
            again = {later.slot: None for later in self.questions[earlier:]}
            asked = state.at(self.name, question.slot, **again)
            return Turn(asked, (question.ask(ctx, asked),))
        return None

    def retry(self, ctx: Context, state: State) -> Reply:
        """The current question's re-ask."""
        question = self.question(state.step)
        if question is None:
            return Reply("not_understood")
        if (state.step or "").endswith(":confirm"):
            return reply("answer_yes_no", "1 Yes", "2 No")
        return question.retry(ctx, state)

    def ask_current(self, ctx: Context, state: State) -> Reply:
        """The current question, asked again."""
        question = self.question(state.step)
        if question is None:
            return Reply("not_understood")
        if (state.step or "").endswith(":confirm"):
            return reply("answer_yes_no", "1 Yes", "2 No")
        return question.ask(ctx, state)

    def expecting(self, state: State) -> str:
        """What the current step expects."""
        question = self.question(state.step)
        if question is None or (state.step or "").endswith(":confirm"):
            return "yesno"
        return question.expecting
