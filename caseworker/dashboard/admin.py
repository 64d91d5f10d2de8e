"""Admin pages: staff accounts and the audit log."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from caseworker.dashboard import audit
from caseworker.dashboard.web import PREFIX, admin, explain, now, render, unit_of_work
from caseworker.staff import (
    LANGUAGES,
    Role,
    StaffError,
    add_staff,
    disable_staff,
    enable_staff,
    list_staff,
)
from db.models import Staff

AUDIT_PAGE = 100


def _account(staff: Staff) -> dict[str, Any]:
    return {
        "email": staff.email,
        "name": staff.name,
        "role": staff.role,
        "language": staff.language,
        "active": staff.active,
    }


def _staff_page(request: Request, status: int = 200, **values: Any) -> Response:
    with unit_of_work(request) as session:
        accounts = [_account(s) for s in list_staff(session)]
    values.setdefault("problem", None)
    values.setdefault("problem_text", None)
    values.setdefault("entered", {})
    return render(
        request,
        "staff.html",
        status,
        title="staff",
        accounts=accounts,
        roles=[r.value for r in Role],
        languages=LANGUAGES,
        **values,
    )


def staff_page(request: Request) -> Response:
    """Every account, a form to add one, and buttons to disable or enable."""
    admin(request)
    return _staff_page(request)


async def staff_add(request: Request) -> Response:
    """Add an account from the form."""
    me = admin(request)
    form = await request.form()
    entered = {k: str(form.get(k, "")) for k in ("email", "name", "role", "language")}
    password = str(form.get("password", ""))
    try:
        role = Role(entered["role"])
    except ValueError:
        return _staff_page(request, 400, problem="bad_request", entered=entered)
    try:
        with unit_of_work(request) as session:
            staff = add_staff(
                session,
                entered["email"],
                role,
                password,
                now(request),
                entered["name"],
                entered["language"],
            )
            audit.record(session, me, "staff.add", staff.email, now(request), None, _account(staff))
    except StaffError as error:
        return _staff_page(request, 400, problem_text=explain(request, error), entered=entered)
    return RedirectResponse(f"{PREFIX}/staff", status_code=303)


async def staff_active(request: Request) -> Response:
    """Disable (ending its sessions) or enable an account."""
    me = admin(request)
    form = await request.form()
    email = str(form.get("email", ""))
    enable = form.get("active") == "1"
    try:
        with unit_of_work(request) as session:
            staff = (enable_staff if enable else disable_staff)(session, email)
            audit.record(
                session,
                me,
                "staff.enable" if enable else "staff.disable",
                staff.email,
                now(request),
                {"active": not enable},
                {"active": enable},
            )
    except StaffError as error:
        return _staff_page(request, 400, problem_text=explain(request, error))
    return RedirectResponse(f"{PREFIX}/staff", status_code=303)


def audit_page(request: Request) -> Response:
    """The newest changes made from the dashboard, 100 a page."""
    admin(request)
    try:
        number = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        number = 1
    with unit_of_work(request) as session:
        entries, total = audit.latest(session, AUDIT_PAGE, (number - 1) * AUDIT_PAGE)
    return render(
        request,
        "audit.html",
        title="audit_log",
        entries=entries,
        total=total,
        number=number,
        pages=max(1, -(-total // AUDIT_PAGE)),
    )


routes = [
    Route("/staff", staff_page, methods=["GET"]),
    Route("/staff", staff_add, methods=["POST"]),
    Route("/staff/active", staff_active, methods=["POST"]),
    Route("/audit", audit_page, methods=["GET"]),
]
