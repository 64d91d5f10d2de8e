"""Try it: a phone in the browser; type as a test seeker and see what Jobline answers."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from caseworker.casework import CaseworkError
from caseworker.dashboard import audit
from caseworker.dashboard.web import PREFIX, context, language, me, now, render, unit_of_work
from caseworker.dashboard.words import LANGUAGES
from caseworker.tryit import (
    all_test_seekers,
    find_test_seeker,
    new_test_seeker,
    phone_screen,
)

# A test seeker's text is cut to this length, as a phone would.
MAX_TEXT = 1000


def try_page(request: Request) -> Response:
    """The test seekers, and a button for a new one."""
    with unit_of_work(request) as session:
        seekers = [(s.id, s.phone, s.name, s.language) for s in all_test_seekers(session)]
    return render(request, "try.html", title="try_it", seekers=seekers, languages=LANGUAGES)


async def new_phone(request: Request) -> Response:
    """A fresh test seeker in the chosen language, then its phone."""
    staff = me(request)
    form = await request.form()
    chosen = str(form.get("language", ""))
    with unit_of_work(request) as session:
        seeker = new_test_seeker(
            session, chosen if chosen in LANGUAGES else language(request), now(request)
        )
        audit.record(
            session,
            staff,
            "try.new_test_seeker",
            seeker.phone or "",
            now(request),
            None,
            {"phone": seeker.phone, "language": seeker.language},
        )
        seeker_id = seeker.id
    return RedirectResponse(f"{PREFIX}/try/{seeker_id}", status_code=303)


def _screen(request: Request, seeker_id: int) -> dict[str, Any] | None:
    try:
        with unit_of_work(request) as session:
            seeker = find_test_seeker(session, seeker_id)
            return {
                "seeker_id": seeker.id,
                "phone": seeker.phone,
                "seeker_language": seeker.language,
                "lines": phone_screen(session, seeker),
            }
    except CaseworkError:
        return None


def phone_page(request: Request) -> Response:
    """The simulated phone of one test seeker."""
    shown = _screen(request, int(request.path_params["seeker_id"]))
    if shown is None:
        return render(request, "message.html", 404, message="not_found")
    return render(request, "phone.html", title="try_it", **shown)


async def say(request: Request) -> Response:
    """Text Jobline as the test seeker; htmx gets the screen back, a plain form a redirect."""
    me(request)
    seeker_id = int(request.path_params["seeker_id"])
    form = await request.form()
    text = " ".join(str(form.get("text", "")).split())[:MAX_TEXT]
    shown = _screen(request, seeker_id)
    if shown is None:
        return render(request, "message.html", 404, message="not_found")
    if text:
        phone = context(request).phone
        if phone is None:
            return render(request, "message.html", 404, message="not_found")
        await anyio.to_thread.run_sync(phone.say, str(shown["phone"]), text)
        shown = _screen(request, seeker_id) or shown
    if request.headers.get("hx-request"):
        return render(request, "phone_screen.html", **shown)
    return RedirectResponse(f"{PREFIX}/try/{seeker_id}", status_code=303)


routes = [
    Route("/try", try_page, methods=["GET"]),
    Route("/try/new", new_phone, methods=["POST"]),
    Route("/try/{seeker_id:int}", phone_page, methods=["GET"]),
    Route("/try/{seeker_id:int}/say", say, methods=["POST"]),
]
