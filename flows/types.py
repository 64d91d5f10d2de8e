"""The values a conversation turn works with: state, profile, replies and effects."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from flows.config import FlowConfig
from flows.effects import Effect
from reference import Reference


@dataclass(frozen=True)
class Profile:
    """What Jobline knows about the seeker (a read-only snapshot for flows)."""

    seeker_id: int | None = None
    phone: str | None = None
    name: str | None = None
    birth_year: int | None = None
    gender: str | None = None
    district: str | None = None
    interests: tuple[str, ...] = ()
    concession_card: bool | None = None
    laid_off: bool | None = None
    language: str = "en"
    alerts: bool = False
    opted_out: bool = False
    registered: bool = False


# Where State's own fields are kept among the answers of a conversation row.
STORED_SUSPENDED = "_suspended"
STORED_OFFERS = "_offers"
STORED_PENDING = "_pending"


@dataclass(frozen=True)
class Suspended:
    """A flow left for another topic, kept to come back to."""

    flow: str
    step: str | None
    answers: dict[str, Any] = field(default_factory=dict)
    auto: bool = False  # go straight back when the other topic ends, without asking


@dataclass(frozen=True)
class State:
    """Where the seeker is: the active flow, its step, answers so far, wrong answers in a row,
    a flow kept to come back to, what numbers stand for while no flow is active, and a near-miss
    answer waiting for the seeker's yes."""

    flow: str | None = None
    step: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    misses: int = 0
    suspended: Suspended | None = None
    offers: dict[str, str] = field(default_factory=dict)
    pending: Any = None

    def at(self, flow: str | None, step: str | None, **answers: Any) -> State:
        """The state at another step, keeping answers and adding new ones; misses reset."""
        return replace(self, flow=flow, step=step, answers={**self.answers, **answers}, misses=0)

    def idle(self) -> State:
        """No active flow; only a suspended flow is kept."""
        return State(suspended=self.suspended)

    def stored(self) -> dict[str, Any]:
        """The answers as a conversation row keeps them, with the state's own fields inside."""
        stored = dict(self.answers)
        if self.suspended is not None:
            kept = self.suspended
            stored[STORED_SUSPENDED] = {
                "flow": kept.flow,
                "step": kept.step,
                "answers": kept.answers,
            }
            if kept.auto:
                stored[STORED_SUSPENDED]["auto"] = True
        if self.offers:
            stored[STORED_OFFERS] = dict(self.offers)
        if self.pending is not None:
            stored[STORED_PENDING] = self.pending
        return stored

    @classmethod
    def from_stored(
        cls, flow: str | None, step: str | None, stored: dict[str, Any], misses: int
    ) -> State:
        """The state a conversation row keeps (the inverse of stored)."""
        answers = dict(stored)
        kept = answers.pop(STORED_SUSPENDED, None)
        suspended = None
        if kept:
            suspended = Suspended(
                kept["flow"], kept["step"], dict(kept["answers"]), bool(kept.get("auto"))
            )
        offers = dict(answers.pop(STORED_OFFERS, None) or {})
        pending = answers.pop(STORED_PENDING, None)
        return cls(flow, step, answers, misses, suspended, offers, pending)


class Asks(StrEnum):
    """What a chat app's button asks the seeker to share with one tap."""

    PHONE = "phone"
    LOCATION = "location"


@dataclass(frozen=True)
class Button:
    """A chat-app button: the words on it, and what it asks to share (nothing: it sends them)."""

    label: str
    asks: Asks | None = None


def buttons(*items: str | Button) -> tuple[Button, ...]:
    """Buttons from labels (plain buttons) and ready Buttons (share buttons)."""
    return tuple(item if isinstance(item, Button) else Button(item) for item in items)


@dataclass(frozen=True)
class Reply:
    """One text to the seeker: a catalogue key and its values, with buttons for chat apps."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Detour:
    """A flow asks the engine to keep it to come back to, and to start another flow."""

    flow: str  # the flow to start
    intent: str  # what the seeker asked for, as the started flow reads it
    auto: bool = False  # come back at once when the other flow ends, without asking


@dataclass(frozen=True)
class Turn:
    """The outcome of one turn (a detour's own replies stand for the started flow's first)."""

    state: State
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()
    missed: bool = False
    detour: Detour | None = None


@dataclass(frozen=True)
class Context:
    """Everything a turn may read: who is writing, when, the places list, settings, storage."""

    profile: Profile
    now: datetime
    reference: Reference
    settings: FlowConfig
    lookup: Any = None


def reply(key: str, *labels: str | Button, **values: Any) -> Reply:
    """Shorthand for a Reply."""
    return Reply(key, values, buttons(*labels))
