"""The Applications page: a board with a column per stage; a button moves an application."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from caseworker.casework import CaseworkError, StageColumn, board, set_stage
from caseworker.dashboard import audit
from caseworker.dashboard.web import PREFIX, explain, me, now, render, unit_of_work
from db.models import Application
from flows.views import STAGES


def column_pages(request: Request) -> dict[str, int]:
    """Which page each column shows: ?submitted=2&interview=3 (1 when missing or bad)."""
    pages = {}
    for stage in STAGES:
        raw = request.query_params.get(stage, "1")
        pages[stage] = int(raw) if raw.isdigit() and 0 < len(raw) < 7 else 1
    return pages


def pager_query(columns: list[StageColumn], stage: str, page: int) -> str:
    """The query string that shows `page` of one column and keeps the others where they are."""
    pages = {column.stage: column.page for column in columns} | {stage: page}
    return urlencode({name: number for name, number in pages.items() if number > 1})


def board_page(request: Request) -> Response:
    """Every stage's latest moved applications, a page a column, each with a Move button."""
    with unit_of_work(request) as session:
        columns = board(session, pages=column_pages(request))
    moved = request.query_params.get("moved", "")
    stage = request.query_params.get("stage", "")
    return render(
        request,
        "applications.html",
        title="applications",
        columns=columns,
        stages=STAGES,
        pager_query=pager_query,
        moved=moved,
        moved_stage=stage if stage in STAGES else "",
        problem_text=None,
    )


async def move(request: Request) -> Response:
    """Move one application to a stage; the seeker gets one text, as with the CLI."""
    staff = me(request)
    reference = str(request.path_params["reference"])
    form = await request.form()
    stage = str(form.get("stage", ""))
    try:
        with unit_of_work(request) as session:
            found = session.scalar(
                select(Application.stage).where(Application.reference == reference.upper())
            )
            application = set_stage(session, reference, stage, now(request))
            audit.record(
                session,
                staff,
                "application.stage",
                application.reference,
                now(request),
                {"stage": found},
                {"stage": application.stage},
            )
            done = application.reference, application.stage
    except CaseworkError as error:
        with unit_of_work(request) as session:
            columns = board(session)
        return render(
            request,
            "applications.html",
            400,
            title="applications",
            columns=columns,
            stages=STAGES,
            pager_query=pager_query,
            moved="",
            moved_stage="",
            problem_text=explain(request, error),
        )
    return RedirectResponse(
        f"{PREFIX}/applications?moved={done[0]}&stage={done[1]}", status_code=303
    )


routes = [
    Route("/applications", board_page, methods=["GET"]),
    Route("/applications/{reference}/stage", move, methods=["POST"]),
]
