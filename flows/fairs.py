"""Job fairs: upcoming fairs, nearest first, one fair's details, JOIN for a reminder."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flows.base import missed
from flows.catalogue import render
from flows.effects import JoinFair
from flows.jobs import city_of, lookup_of
from flows.oneshot import ended
from flows.types import Context, Reply, State, Turn, reply
from flows.views import FairView
from nlu.parse import Parse

SHOWN = 3


def when(fair: FairView, ctx: Context) -> tuple[str, str]:
    """('Wed 23 Dec', '9:00') in the office's time zone."""
    local = fair.starts_at.astimezone(ZoneInfo(ctx.settings.timezone))
    return f"{local.strftime('%a')} {local.day} {local.strftime('%b')}", f"{local.hour}:{local:%M}"


def fair_details(fair: FairView, ctx: Context) -> Reply:
    """Everything about one fair, and how to get a reminder."""
    date, time = when(fair, ctx)
    return reply(
        "fair_details",
        "JOIN",
        "MENU",
        fair_name=fair.name[:60],
        date=date,
        time=time,
        venue=fair.venue[:60],
        district=fair.district,
        employers=f"{fair.employers:,}",
        posts=f"{fair.posts:,}",
    )


def nearest_first(ctx: Context, fairs: list[FairView]) -> list[FairView]:
    """Fairs in the seeker's own city first, then the others; soonest first within each."""
    home = ctx.profile.district
    if home is None:
        return fairs
    city = city_of(ctx.reference, home)
    return sorted(fairs, key=lambda f: (city_of(ctx.reference, f.district) != city, f.starts_at))


class JobFairs:
    """Upcoming fairs, details by number, JOIN to be reminded."""

    name = "fairs"

    def start(self, ctx: Context, state: State, parse: Parse) -> Turn:
        """The list of fairs, or straight to joining when there is only one and JOIN was sent."""
        fairs = nearest_first(ctx, lookup_of(ctx).fairs(ctx.now))[:SHOWN]
        if not fairs:
            return Turn(ended(state), (Reply("fairs_none"),))
        listing = state.at(self.name, "list", fairs=[f.id for f in fairs], fair=None)
        # A poster's QR code (Telegram /start fair_<id>) opens that fair, if it is still ahead.
        wanted = parse.entity("fair_id")
        poster = lookup_of(ctx).fair(int(wanted)) if wanted and wanted.isdigit() else None
        if poster is not None and poster.starts_at >= ctx.now:
            shown = listing.at(self.name, "details", fair=poster.id)
            return Turn(shown, (fair_details(poster, ctx),))
        if parse.intent == "join" and len(fairs) == 1:
            return self.join(ctx, listing.at(self.name, "details", fair=fairs[0].id))
        lines = []
        for number, fair in enumerate(fairs, start=1):
            date, time = when(fair, ctx)
            lines.append(
                render(
                    "fair_line",
                    ctx.profile.language,
                    number=number,
                    date=date,
                    time=time,
                    venue=fair.venue[:60],
                    employers=f"{fair.employers:,}",
                    posts=f"{fair.posts:,}",
                )
            )
        buttons = tuple(str(n) for n in range(1, len(fairs) + 1))
        return Turn(listing, (reply("fairs_list", *buttons, fair_lines="\n".join(lines)),))

    def answer(self, ctx: Context, state: State, parse: Parse) -> Turn | None:
        """A number picks a fair; JOIN asks for its reminder."""
        ids: list[int] = state.answers.get("fairs") or []
        number = parse.entity("number")
        if parse.intent == "join":
            if state.step == "details":
                return self.join(ctx, state)
            return Turn(state, (Reply("fair_join_which"),))
        if number is not None:
            index = int(number) - 1
            if not 0 <= index < len(ids):
                return missed(state, reply("fair_number_retry", choices=_choices(len(ids))))
            fair = lookup_of(ctx).fair(ids[index])
            if fair is None:
                return Turn(ended(state), (Reply("fairs_none"),))
            return Turn(state.at(self.name, "details", fair=fair.id), (fair_details(fair, ctx),))
        if parse.intent == "job_fair":
            return self.start(ctx, state.idle(), parse)
        return None

    def join(self, ctx: Context, state: State) -> Turn:
        """Alerts for this fair, and a reminder the day before."""
        fair_id: int = state.answers["fair"]
        lookup = lookup_of(ctx)
        fair = lookup.fair(fair_id)
        if fair is None:
            return Turn(ended(state), (Reply("fairs_none"),))
        fair_name = fair.name[:60]
        seeker_id = ctx.profile.seeker_id
        if seeker_id is not None and lookup.joined(seeker_id, fair_id):
            return Turn(ended(state), (reply("fair_already_joined", fair_name=fair_name),))
        return Turn(
            ended(state),
            (reply("fair_joined", fair_name=fair_name),),
            (JoinFair(fair_id),),
        )

    def back(self, ctx: Context, state: State) -> Turn | None:
        """From a fair back to the list."""
        if state.step == "details":
            return self.start(ctx, state.idle(), Parse("fair", "job_fair"))
        return None

    def retry(self, ctx: Context, state: State) -> Reply:
        """How to answer here."""
        if state.step == "details":
            return Reply("fair_details_retry")
        ids = state.answers.get("fairs") or []
        return reply("fair_number_retry", choices=_choices(len(ids)))

    def ask_current(self, ctx: Context, state: State) -> Reply:
        """Show the fair again (or the list)."""
        if state.step == "details":
            fair = lookup_of(ctx).fair(state.answers["fair"])
            if fair is not None:
                return fair_details(fair, ctx)
        return self.start(ctx, state.idle(), Parse("fair", "job_fair")).replies[0]

    def expecting(self, state: State) -> str:
        """A number, or JOIN."""
        return "choice"


def _choices(count: int) -> str:
    return "1" if count <= 1 else f"1 to {count}"
