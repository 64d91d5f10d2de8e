"""Signing in and out, and the language switch in the header."""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from caseworker.dashboard import audit
from caseworker.dashboard.web import (
    PREFIX,
    context,
    language,
    render,
    set_visit,
    unit_of_work,
    visit,
)
from caseworker.dashboard.words import LANGUAGES
from caseworker.staff import SignInOutcome, sign_in
from db.models import Staff
from db.session import transaction


async def login_page(request: Request) -> Response:
    """The sign-in form (already signed in: the overview)."""
    if request.state.staff is not None:
        return RedirectResponse(f"{PREFIX}/", status_code=303)
    bye = request.query_params.get("bye") == "1"
    return render(request, "login.html", problem=None, email="", bye=bye)


async def login(request: Request) -> Response:
    """Check the email and password; the same message for an unknown email or a wrong password."""
    form = await request.form()
    email = str(form.get("email", ""))[:254]
    password = str(form.get("password", ""))[:1024]
    dashboard = context(request)

    def attempt() -> tuple[SignInOutcome, int, int]:
        with transaction(dashboard.sessions) as session:
            result = sign_in(session, email, password, dashboard.clock())
            staff = result.staff
            return (
                result.outcome,
                staff.id if staff else 0,
                staff.session_generation if staff else 0,
            )

    outcome, staff_id, generation = await anyio.to_thread.run_sync(attempt)
    if outcome is SignInOutcome.ok:
        set_visit(request, visit(request).signed_in(staff_id, generation))
        return RedirectResponse(f"{PREFIX}/", status_code=303)
    problem = "refused_sign_in" if outcome is SignInOutcome.refused else "wrong_sign_in"
    status = 429 if outcome is SignInOutcome.refused else 401
    return render(request, "login.html", status, problem=problem, email=email, bye=False)


def logout(request: Request) -> Response:
    """Sign out: this and every other session of the account end."""
    current = visit(request)
    with unit_of_work(request) as session:
        staff = session.get(Staff, current.staff_id)
        if staff is not None:
            staff.session_generation += 1
    set_visit(request, current.signed_out())
    return RedirectResponse(f"{PREFIX}/login?bye=1", status_code=303)


async def switch_language(request: Request) -> Response:
    """Change the page language: the staff member's own setting, or this browser's before login."""
    form = await request.form()
    chosen = str(form.get("language", ""))
    back = str(form.get("back", ""))
    if not back.startswith(f"{PREFIX}/") or back.startswith("//"):
        back = f"{PREFIX}/"
    if chosen not in LANGUAGES:
        return render(request, "message.html", 400, message="bad_request")
    staff = request.state.staff
    if staff is not None and chosen != language(request):

        def save() -> None:
            with unit_of_work(request) as session:
                row = session.get(Staff, staff.id)
                assert row is not None
                before = {"language": row.language}
                row.language = chosen
                audit.record(
                    session,
                    staff,
                    "staff.language",
                    staff.email,
                    context(request).clock(),
                    before,
                    {"language": chosen},
                )

        await anyio.to_thread.run_sync(save)
    set_visit(request, visit(request).with_language(chosen))
    return RedirectResponse(back, status_code=303)


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/language", switch_language, methods=["POST"]),
]
