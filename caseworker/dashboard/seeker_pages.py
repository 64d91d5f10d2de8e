"""Seekers: search and filters, 50 a page, one page per seeker, CSV export of the list."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from caseworker.csv_safe import write_csv
from caseworker.dashboard.web import context, now, render, unit_of_work
from caseworker.seekers import (
    EXPORT_FIELDS,
    SeekerFilter,
    csv_row,
    export_rows,
    find_seekers,
    seeker_story,
)
from db.models import JobCategory, Place, Seeker

WHOLE_CONVERSATION = 2000


def chosen(request: Request) -> SeekerFilter:
    """The filter the query string asks for."""
    query = request.query_params
    return SeekerFilter(
        search=query.get("search", "")[:80],
        district=query.get("district", "")[:80],
        interest=query.get("interest", "")[:40],
        group_4050=query.get("group_4050") == "1",
        card=query.get("card") == "1",
        opted_out=query.get("opted_out") == "1",
    )


def _today(request: Request) -> date:
    return now(request).astimezone(ZoneInfo(context(request).settings.notify.timezone)).date()


def _condition(request: Request, wanted: SeekerFilter) -> ColumnElement[bool]:
    loans = context(request).settings.loans
    return wanted.condition(_today(request), loans.women_age, loans.men_age)


def _query_string(wanted: SeekerFilter) -> str:
    values = {
        "search": wanted.search,
        "district": wanted.district,
        "interest": wanted.interest,
        "group_4050": "1" if wanted.group_4050 else "",
        "card": "1" if wanted.card else "",
        "opted_out": "1" if wanted.opted_out else "",
    }
    return urlencode({k: v for k, v in values.items() if v})


def seekers_page(request: Request) -> Response:
    """The filtered list, 50 a page, with the total."""
    wanted = chosen(request)
    try:
        number = int(request.query_params.get("page", "1"))
    except ValueError:
        number = 1
    with unit_of_work(request) as session:
        found = find_seekers(session, _condition(request, wanted), number)
        places = list(session.scalars(select(Place.name).order_by(Place.name)))
        kinds = list(session.execute(select(JobCategory.slug, JobCategory.name)).all())
    return render(
        request,
        "seekers.html",
        title="seekers",
        found=found,
        wanted=wanted,
        places=places,
        kinds=kinds,
        query=_query_string(wanted),
    )


def export(request: Request) -> Response:
    """The filtered list as CSV, safe to open in a spreadsheet."""
    wanted = chosen(request)
    condition = _condition(request, wanted)
    sessions = context(request).sessions

    def rows() -> Iterator[str]:
        with sessions() as session:
            yield _csv([], header=True)
            batch: list[dict[str, object]] = []
            for row in export_rows(session, condition):
                batch.append(csv_row(row))
                if len(batch) == 1000:
                    yield _csv(batch)
                    batch = []
            yield _csv(batch)

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="seekers.csv"'},
    )


def _csv(batch: list[dict[str, object]], header: bool = False) -> str:
    buffer = io.StringIO()
    write_csv(buffer, EXPORT_FIELDS, batch, header)
    return buffer.getvalue()


def seeker_page(request: Request) -> Response:
    """One seeker: profile, applications, fairs and the whole conversation."""
    with unit_of_work(request) as session:
        seeker = session.get(Seeker, int(request.path_params["seeker_id"]))
        if seeker is None:
            raise HTTPException(404)
        story = seeker_story(session, seeker, WHOLE_CONVERSATION)
        applications = [(a, a.job) for a in story.applications]
    return render(
        request,
        "seeker.html",
        title="seekers",
        story=story,
        applications=applications,
        capped=len(story.lines) >= WHOLE_CONVERSATION,
    )


routes = [
    Route("/seekers", seekers_page, methods=["GET"]),
    Route("/seekers/export.csv", export, methods=["GET"]),
    Route("/seekers/{seeker_id:int}", seeker_page, methods=["GET"]),
]
