"""A person: open a handoff, stay quiet while a caseworker answers."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flows.effects import OpenHandoff
from flows.types import Context, Reply, State, Turn, reply
from nlu.parse import Parse

WORKDAYS = range(5)
# A request this close to the reply-by time is promised for the next working day.
MARGIN = timedelta(hours=1)


def reply_when(ctx: Context) -> Reply:
    """Today before the office's reply time, or the next working day."""
    local = ctx.now.astimezone(ZoneInfo(ctx.settings.timezone))
    hour, minute = (int(part) for part in ctx.settings.office.reply_by.split(":"))
    cutoff = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if local.weekday() in WORKDAYS and local < cutoff - MARGIN:
        return reply("handoff_when_today", reply_by=ctx.settings.office.reply_by)
    return Reply("handoff_when_next")


class Handoff:
    """Hand the seeker to a caseworker; the bot is quiet until it is closed."""

    name = "handoff"

    def start(self, ctx: Context, state: State, parse: Parse) -> Turn:
        """Open a handoff and say when a person will answer."""
        opened = reply("handoff_opened", "MENU", when=reply_when(ctx))
        reason = "" if parse.intent in ("human_agent", "number") else parse.text
        effect = OpenHandoff(reason)
        return Turn(state.at(self.name, "open"), (opened,), (effect,))

    def answer(self, ctx: Context, state: State, parse: Parse) -> Turn | None:
        """Stay quiet: the caseworker reads the stored message and answers."""
        return Turn(state)

    def back(self, ctx: Context, state: State) -> Turn | None:
        """Back does nothing while a person is answering."""
        return Turn(state)

    def retry(self, ctx: Context, state: State) -> Reply:
        """Never needed: every message is accepted."""
        return Reply("handoff_waiting")

    def ask_current(self, ctx: Context, state: State) -> Reply:
        """Remind the seeker a person is on it."""
        return Reply("handoff_waiting")

    def expecting(self, state: State) -> str:
        """Free text for the caseworker."""
        return "text"
