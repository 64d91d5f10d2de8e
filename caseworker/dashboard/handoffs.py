"""Handoffs: seekers waiting for a person, their conversation, Reply and Close."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from caseworker.casework import CaseworkError, close, open_handoffs, reply, waiting_count
from caseworker.dashboard import audit
from caseworker.dashboard.web import (
    PREFIX,
    explain,
    in_thread,
    me,
    now,
    page_number,
    render,
    unit_of_work,
)
from caseworker.seekers import seeker_story
from db.models import Handoff, Seeker

LAST_MESSAGES = 20
POLL_SECONDS = 5
PER_PAGE = 50


def _waiting(request: Request) -> dict[str, Any]:
    """One page of the waiting list, oldest first, with how many wait in all."""
    with unit_of_work(request) as session:
        count = waiting_count(session)
        pages = max(1, -(-count // PER_PAGE))
        page = min(page_number(request), pages)
        waiting = open_handoffs(session, PER_PAGE, (page - 1) * PER_PAGE)
    return {"waiting": waiting, "count": count, "page": page, "pages": pages, "poll": POLL_SECONDS}


def waiting_list(request: Request) -> Response:
    """The waiting list alone (htmx polls it so new handoffs appear without a reload)."""
    return render(request, "handoffs_waiting.html", **_waiting(request))


def handoffs_page(request: Request) -> Response:
    """Everyone waiting for a person, oldest first, 50 a page."""
    closed = request.query_params.get("closed") == "1"
    return render(request, "handoffs.html", title="handoffs", closed=closed, **_waiting(request))


def _conversation(request: Request, status: int = 200, **values: Any) -> Response:
    seeker_id = int(request.path_params["seeker_id"])
    with unit_of_work(request) as session:
        seeker = session.get(Seeker, seeker_id)
        if seeker is None:
            raise HTTPException(404)
        story = seeker_story(session, seeker, LAST_MESSAGES)
        waiting = session.scalar(
            select(func.count())
            .select_from(Handoff)
            .where(Handoff.contact_id.in_([c.id for c in story.contacts]), Handoff.status == "open")
        )
    values.setdefault("problem", None)
    values.setdefault("problem_text", None)
    values.setdefault("typed", "")
    return render(
        request,
        "handoff.html",
        status,
        title="handoffs",
        story=story,
        waiting=bool(waiting),
        sent=request.query_params.get("sent") == "1",
        **values,
    )


def handoff_page(request: Request) -> Response:
    """One waiting seeker: profile, last 20 messages both ways, Reply and Close."""
    return _conversation(request)


async def send_reply(request: Request) -> Response:
    """Queue the caseworker's reply in the outbox; an empty or impossible one changes nothing."""
    form = await request.form()
    return await in_thread(_send_reply, request, str(form.get("reply", "")))


def _send_reply(request: Request, text: str) -> Response:
    staff = me(request)
    seeker_id = int(request.path_params["seeker_id"])
    if not text.strip():
        return _conversation(request, 400, problem="reply_empty", typed=text)
    try:
        with unit_of_work(request) as session:
            seeker = session.get(Seeker, seeker_id)
            if seeker is None:
                raise HTTPException(404)
            reply(session, seeker, text, now(request))
            audit.record(
                session,
                staff,
                "handoff.reply",
                seeker.phone or str(seeker.id),
                now(request),
                None,
                {"text": " ".join(text.split())},
            )
    except CaseworkError as error:
        return _conversation(request, 400, problem_text=explain(request, error), typed=text)
    return RedirectResponse(f"{PREFIX}/handoffs/{seeker_id}?sent=1", status_code=303)


def close_request(request: Request) -> Response:
    """Close the request: the bot answers the seeker again, and they are told."""
    staff = me(request)
    seeker_id = int(request.path_params["seeker_id"])
    try:
        with unit_of_work(request) as session:
            seeker = session.get(Seeker, seeker_id)
            if seeker is None:
                raise HTTPException(404)
            close(session, seeker, now(request))
            audit.record(
                session,
                staff,
                "handoff.close",
                seeker.phone or str(seeker.id),
                now(request),
                {"status": "open"},
                {"status": "closed"},
            )
    except CaseworkError as error:
        return _conversation(request, 400, problem_text=explain(request, error))
    return RedirectResponse(f"{PREFIX}/handoffs?closed=1", status_code=303)


routes = [
    Route("/handoffs", handoffs_page, methods=["GET"]),
    Route("/handoffs/waiting", waiting_list, methods=["GET"]),
    Route("/handoffs/{seeker_id:int}", handoff_page, methods=["GET"]),
    Route("/handoffs/{seeker_id:int}/reply", send_reply, methods=["POST"]),
    Route("/handoffs/{seeker_id:int}/close", close_request, methods=["POST"]),
]
