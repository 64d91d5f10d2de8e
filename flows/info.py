"""Policies and information: the re-employment card and training courses."""

from __future__ import annotations

from flows.oneshot import OneReply, ended
from flows.types import Context, State, Turn, reply
from nlu.parse import Parse


def _office(ctx: Context) -> dict[str, str]:
    return ctx.settings.office.where(ctx.profile.language)


class ConcessionCard(OneReply):
    """What the card is, what it gives, how to get one."""

    name = "concession_card"

    def start(self, ctx: Context, state: State, parse: Parse) -> Turn:
        """What the card gives; 1 for how to get it, 2 for training."""
        offers = {"1": "card_how", "2": "training"}
        return Turn(ended(state, offers), (reply("card_info", "1 Get a card", "2 Training"),))


class CardHow(OneReply):
    """Where to go for the card and what to bring."""

    name = "card_how"

    def start(self, ctx: Context, state: State, parse: Parse) -> Turn:
        """The office, its hours, the papers to bring."""
        offers = {"2": "training"}
        return Turn(ended(state, offers), (reply("card_how", "2 Training", **_office(ctx)),))


class Training(OneReply):
    """Free training courses and how to sign up."""

    name = "training"

    def start(self, ctx: Context, state: State, parse: Parse) -> Turn:
        """The courses and where to sign up."""
        return Turn(ended(state), (reply("training_info", "9 Talk to a person", **_office(ctx)),))
