"""The answer to a shared location: the nearest open jobs, by distance."""

from __future__ import annotations

from collections.abc import Sequence

from db.nearby import NearbyPost
from flows.catalogue import render
from flows.menu import MENU_OFFERS, offering
from flows.share_buttons import SEND_LOCATION
from flows.types import Reply, State, Turn, reply

# Keeps three lines of jobs inside the three-segment limit.
MAX_TITLE = 36
MAX_PLACE = 14


def km_text(km: float) -> str:
    """A distance a seeker reads at a glance: 0.4, 3.2, 12."""
    if km < 10:
        return f"{max(km, 0.1):.1f}"
    return f"{km:.0f}"


def job_line(post: NearbyPost, language: str) -> str:
    """One line of the list: title, place, distance, pay."""
    return render(
        "job_near_line",
        language,
        title=_cut(post.title, MAX_TITLE),
        place=_cut(post.place, MAX_PLACE),
        km=km_text(post.km),
        pay=f"{post.pay_yuan_month:,}",
    )


def nearby_turn(state: State, posts: Sequence[NearbyPost], language: str) -> Turn:
    """List the nearest posts; the menu numbers stay valid (1 = jobs)."""
    after = offering(state.idle(), MENU_OFFERS)
    if not posts:
        return Turn(after, (Reply("no_jobs_near_you", buttons=("1 Jobs", "MENU", SEND_LOCATION)),))
    lines = "\n".join(job_line(post, language) for post in posts)
    return Turn(after, (reply("jobs_near_you", "1 Jobs", "MENU", SEND_LOCATION, jobs=lines),))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "..."
