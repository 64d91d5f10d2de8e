"""The widening job search on both databases: in one statement, the jobs the plain search finds
at the first place level that has any, whatever the places are called."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.database import Database
from bot.lookup import StoreLookup
from db.models import JobPost
from reference import load_reference

REFERENCE = load_reference()
# Names no place has, but a caseworker's post could: quotes, a backslash, a comma, braces,
# JSON's and PostgreSQL's special words, an empty name, Chinese.
ODD_PLACES = ['a "b"', "back\\slash", "x,y", "{}", "[1]", "NULL", "null", "", "道里区"]


def levels_of(place: str) -> list[tuple[str, ...]]:
    """A place and each wider one, as a search widens (flows/jobs.py)."""
    places = [place]
    while (wider := REFERENCE.wider(places[-1])) is not None:
        places.append(wider)
    return [REFERENCE.within(each) for each in places]


def plain(
    lookup: StoreLookup,
    levels: Sequence[Sequence[str]],
    category: str | None,
    prefer: Sequence[str],
) -> tuple[int, list[int]]:
    """The first level with any jobs, by one plain search a level."""
    for index, places in enumerate(levels):
        if found := lookup.search_jobs(places, category, prefer, limit=60):
            return index, [job.id for job in found]
    return len(levels) - 1, []


@pytest.mark.parametrize("prefer", [(), ("cleaning",), ("cleaning", "care")])
@pytest.mark.parametrize("category", [None, "factory", "cleaning"])
def test_the_widening_search_finds_what_one_search_a_level_finds(
    database: Database, category: str | None, prefer: tuple[str, ...]
) -> None:
    names = [place.name for place in REFERENCE.places]
    with database.sessions() as session:
        lookup = StoreLookup(session)
        for place in ["Daoli", "Harbin", "Heilongjiang", *names[::10], "Atlantis"]:
            levels = levels_of(place)
            level, jobs = lookup.search_jobs_widening(levels, category, prefer, limit=60)
            assert (level, [job.id for job in jobs]) == plain(lookup, levels, category, prefer)
        level, jobs = lookup.search_jobs_widening(levels_of("Daoli"), None, limit=60)
        assert jobs and level == 0  # the demo data has posts in Daoli


def test_places_with_odd_names_are_matched_as_they_are(database: Database) -> None:
    with database.sessions() as session:
        session.add_all(
            JobPost(
                code=f"ODD{n}",
                title="t",
                employer="e",
                category="factory",
                place=place,
                pay_yuan_month=3000,
                hours="8-17",
                suits="anyone",
            )
            for n, place in enumerate(ODD_PLACES)
        )
        session.flush()
        lookup = StoreLookup(session)
        for place in ODD_PLACES:
            level, jobs = lookup.search_jobs_widening([[place], ODD_PLACES], "factory")
            assert level == 0 and [job.place for job in jobs] == [place]
        level, jobs = lookup.search_jobs_widening([[], ["nowhere"]], "factory")
        assert level == 1 and jobs == []
