"""The Fairs page: add and change fairs, who joined and who is coming, link and poster."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from caseworker.casework import CaseworkError
from caseworker.dashboard import audit
from caseworker.dashboard.web import (
    PREFIX,
    context,
    explain,
    me,
    now,
    page_number,
    render,
    unit_of_work,
)
from caseworker.fairs import (
    FairForm,
    fair_people,
    fair_totals,
    list_fairs,
    poster_qr_svg,
    save_fair,
)
from db.models import JobFair
from notify.broadcasts import fair_when
from notify.fairs import fair_link
from reference import load_reference

FIELDS = ("name", "starts", "venue", "district")
# A fair may have thousands of subscribers: the page lists them 50 at a time, coming first.
PEOPLE_SHOWN = 50


def _timezone(request: Request) -> str:
    zone: str = context(request).settings.notify.timezone
    return zone


def bot_username(request: Request) -> str | None:
    """The Telegram bot's name once Jobline knows it (a token is set and Telegram answered)."""
    return context(request).telegram_username()


def _fair_values(fair: JobFair, timezone: str) -> dict[str, str]:
    local = fair.starts_at.astimezone(ZoneInfo(timezone))
    return {
        "name": fair.name,
        "starts": f"{local:%Y-%m-%dT%H:%M}",
        "venue": fair.venue,
        "district": fair.district,
    }


def _places() -> list[str]:
    return [place.name for place in load_reference().places]


def fairs_page(request: Request, status: int = 200, **values: Any) -> Response:
    """Every fair with its subscribers and RSVPs, and a form for a new one."""
    with unit_of_work(request) as session:
        fairs = list_fairs(session, _timezone(request))
    values.setdefault("entered", {})
    values.setdefault("problem_text", None)
    return render(
        request, "fairs.html", status, title="fairs", fairs=fairs, places=_places(), **values
    )


def fairs_list(request: Request) -> Response:
    """The fairs page."""
    return fairs_page(request)


def fair_page(request: Request, status: int = 200, **values: Any) -> Response:
    """One fair: its form, its Telegram link and poster, its subscribers."""
    fair_id = int(request.path_params["fair_id"])
    timezone = _timezone(request)
    with unit_of_work(request) as session:
        fair = session.get(JobFair, fair_id)
        if fair is None:
            return render(request, "message.html", 404, message="not_found")
        subscribers, coming = fair_totals(session, fair_id).get(fair_id, (0, 0))
        pages = max(1, -(-subscribers // PEOPLE_SHOWN))
        page = min(page_number(request), pages)
        people = fair_people(session, fair_id, PEOPLE_SHOWN, (page - 1) * PEOPLE_SHOWN)
        stored = _fair_values(fair, timezone)
        when = fair_when(fair, timezone)
    username = bot_username(request)
    values.setdefault("entered", stored)
    values.setdefault("problem_text", None)
    return render(
        request,
        "fair.html",
        status,
        title="fairs",
        fair_id=fair_id,
        fair_name=stored["name"],
        when=when,
        people=people,
        page=page,
        pages=pages,
        subscribers=subscribers,
        coming=coming,
        link=fair_link(username, fair_id) if username else None,
        places=_places(),
        saved=request.query_params.get("saved") == "1",
        **values,
    )


async def save(request: Request) -> Response:
    """Add a fair, or change one; a fair in the past is refused and nothing is stored."""
    staff = me(request)
    raw = request.path_params.get("fair_id")
    fair_id = int(raw) if raw is not None else None
    form = await request.form()
    entered = {name: str(form.get(name, ""))[:200] for name in FIELDS}
    timezone = _timezone(request)
    try:
        with unit_of_work(request) as session:
            before = None
            if fair_id is not None:
                found = session.get(JobFair, fair_id)
                before = _fair_values(found, timezone) if found is not None else None
            fair = save_fair(
                session,
                FairForm(**entered),
                timezone=timezone,
                reference=load_reference(),
                now=now(request),
                fair_id=fair_id,
            )
            action = "fair.add" if fair_id is None else "fair.edit"
            after = _fair_values(fair, timezone)
            audit.record(session, staff, action, fair.name, now(request), before, after)
            saved_id = fair.id
    except CaseworkError as error:
        if fair_id is None:
            return fairs_page(request, 400, entered=entered, problem_text=explain(request, error))
        return fair_page(request, 400, entered=entered, problem_text=explain(request, error))
    return RedirectResponse(f"{PREFIX}/fairs/{saved_id}?saved=1", status_code=303)


def poster(request: Request) -> Response:
    """A printable poster: the fair, and a QR code that opens it in Telegram."""
    fair_id = int(request.path_params["fair_id"])
    username = bot_username(request)
    with unit_of_work(request) as session:
        fair = session.get(JobFair, fair_id)
        if fair is None or username is None:
            return render(request, "message.html", 404, message="not_found")
        values = _fair_values(fair, _timezone(request))
        when = fair_when(fair, _timezone(request))
    link = fair_link(username, fair_id)
    return render(
        request,
        "poster.html",
        title="fairs",
        fair=values,
        when=when,
        link=link,
        qr=Markup(poster_qr_svg(link)),
    )


routes = [
    Route("/fairs", fairs_list, methods=["GET"]),
    Route("/fairs", save, methods=["POST"]),
    Route("/fairs/{fair_id:int}", fair_page, methods=["GET"]),
    Route("/fairs/{fair_id:int}", save, methods=["POST"]),
    Route("/fairs/{fair_id:int}/poster", poster, methods=["GET"]),
]
