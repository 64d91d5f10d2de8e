"""The dashboard's routes, all behind the guard; bot/runtime.py mounts them in the web app.

A page module exposes `routes: list[Route]` (paths relative to /dashboard) and is listed in
PAGES below; the guard then requires a session and a CSRF token for it with nothing more to do.
"""

from __future__ import annotations

from pathlib import Path

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from caseworker.dashboard import (
    admin,
    applications,
    broadcasts,
    fairs,
    handoffs,
    jobs,
    login,
    overview,
    seeker_pages,
    try_it,
)
from caseworker.dashboard.guard import Guard
from caseworker.dashboard.web import PREFIX, STATIC, DashboardContext

STATIC_DIR = Path(__file__).resolve().parent / "static"

PAGES = (
    login,
    overview,
    handoffs,
    seeker_pages,
    admin,
    jobs,
    applications,
    fairs,
    broadcasts,
    try_it,
)


def dashboard_routes(context: DashboardContext) -> list[BaseRoute]:
    """/dashboard/... (signed-in pages and the login page) and its static files."""
    pages: list[BaseRoute] = [route for module in PAGES for route in module.routes]
    return [
        Mount(PREFIX, routes=pages, middleware=[Middleware(Guard, context=context)]),
        Mount(STATIC, app=StaticFiles(directory=STATIC_DIR), name="dashboard-static"),
    ]
