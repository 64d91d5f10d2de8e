"""Services that answer in one text and end: status, the card, training."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import replace

from flows.menu import MENU_OFFERS
from flows.types import Context, Reply, State, Turn
from nlu.parse import Parse


def ended(state: State, offers: dict[str, str] | None = None) -> State:
    """No active flow; a suspended flow is kept; menu numbers work, with these in their place."""
    return replace(state.idle(), offers={**MENU_OFFERS, **(offers or {})})


class OneReply(ABC):
    """A flow that answers at once and leaves the seeker at the menu numbers."""

    name = "one_reply"

    @abstractmethod
    def start(self, ctx: Context, state: State, parse: Parse) -> Turn:
        """Answer."""
        ...

    def answer(self, ctx: Context, state: State, parse: Parse) -> Turn | None:
        """Never active, so never answered."""
        return None

    def back(self, ctx: Context, state: State) -> Turn | None:
        """Nothing to go back to."""
        return None

    def retry(self, ctx: Context, state: State) -> Reply:
        """Never needed."""
        return Reply("not_understood")

    def ask_current(self, ctx: Context, state: State) -> Reply:
        """Never needed."""
        return Reply("not_understood")

    def expecting(self, state: State) -> str:
        """Nothing in particular."""
        return "choice"
