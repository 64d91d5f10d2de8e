"""Answering a fair alert: 1 or YES means the seeker will come (an RSVP)."""

from __future__ import annotations

from flows.effects import AttendFair
from flows.types import Context, Reply, State, Turn, reply
from nlu.parse import Parse


class FairRsvp:
    """One step: record that the seeker will come to the fair they were told about."""

    name = "fair_rsvp"

    def start(self, ctx: Context, state: State, parse: Parse) -> Turn:
        """Thank the seeker; the effect finds the fair from the alert they got."""
        return Turn(state.idle(), (reply("fair_rsvp_done", "MENU"),), (AttendFair(),))

    def answer(self, ctx: Context, state: State, parse: Parse) -> Turn | None:
        """Never active after its one step."""
        return None

    def back(self, ctx: Context, state: State) -> Turn | None:
        """Nothing to go back to."""
        return None

    def retry(self, ctx: Context, state: State) -> Reply:
        """Never needed: the flow ends where it starts."""
        return Reply("fair_rsvp_done")

    def expecting(self, state: State) -> str:
        """A number or yes."""
        return "choice"

    def ask_current(self, ctx: Context, state: State) -> Reply:
        """Never needed: the flow ends where it starts."""
        return Reply("fair_rsvp_done")
