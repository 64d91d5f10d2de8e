"""The Applications page: a board with a column per stage; a button moves an application."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from caseworker.casework import CaseworkError, board, set_stage
from caseworker.dashboard import audit
from caseworker.dashboard.web import PREFIX, explain, me, now, render, unit_of_work
from db.models import Application
from flows.views import STAGES


def board_page(request: Request) -> Response:
    """Every stage's newest applications, each with a select and a Move button."""
    with unit_of_work(request) as session:
        columns = board(session)
    moved = request.query_params.get("moved", "")
    stage = request.query_params.get("stage", "")
    return render(
        request,
        "applications.html",
        title="applications",
        columns=columns,
        stages=STAGES,
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
