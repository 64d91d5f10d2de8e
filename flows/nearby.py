"""The answer to a shared location: the nearest open jobs, as a page of the jobs list."""

from __future__ import annotations

from collections.abc import Sequence

from flows.catalogue import render
from flows.jobs import PAGE, clip, pay
from flows.menu import MENU_OFFERS, offering
from flows.share_buttons import SEND_LOCATION
from flows.types import Reply, State, Turn, reply
from flows.views import NearbyPost

JOBS_FLOW = "jobs"
# Keeps three lines of jobs inside the three-segment limit.
MAX_TITLE = 40
MAX_PLACE = 14


def km_text(km: float) -> str:
    """A distance a seeker reads at a glance: 0.4, 3.2, 12."""
    if km < 10:
        return f"{max(km, 0.1):.1f}"
    return f"{km:.0f}"


def job_line(number: int, post: NearbyPost, language: str) -> str:
    """One line of the list: number, title, place, distance, pay."""
    return render(
        "job_near_line",
        language,
        number=number,
        title=clip(post.title, MAX_TITLE),
        place=clip(post.place, MAX_PLACE),
        km=km_text(post.km),
        pay=pay(post.pay_yuan_month),
    )


def nearby_turn(state: State, posts: Sequence[NearbyPost], language: str) -> Turn:
    """The nearest posts, numbered; the jobs flow takes it from there (a number, MORE, 0)."""
    if not posts:
        after = offering(state.idle(), MENU_OFFERS)
        return Turn(after, (reply("no_jobs_near_you", "1 Jobs", "MENU", SEND_LOCATION),))
    listing = state.idle().at(
        JOBS_FLOW,
        "list",
        jobs=[post.id for post in posts],
        page=0,
        place=posts[0].place,
        asked=None,
        category=None,
        job=None,
    )
    shown = posts[:PAGE]
    lines = "\n".join(job_line(n, post, language) for n, post in enumerate(shown, start=1))
    more = len(posts) > PAGE
    buttons = (*(str(n) for n in range(1, len(shown) + 1)), *(("MORE",) if more else ()))
    hint = Reply("jobs_more_hint") if more else ""
    return Turn(listing, (reply("jobs_near_you", *buttons, SEND_LOCATION, jobs=lines, more=hint),))
