"""Pages not built yet: a plain "coming" page under their navigation name."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from caseworker.dashboard.web import render


def _coming(title: str) -> Callable[[Request], Response]:
    def page(request: Request) -> Response:
        return render(request, "coming.html", title=title)

    page.__doc__ = f"The {title} page, coming soon."
    return page


routes = [
    Route(path, _coming(title), methods=["GET"])
    for path, title in (
        ("/jobs", "jobs"),
        ("/applications", "applications"),
        ("/fairs", "fairs"),
        ("/broadcasts", "broadcasts"),
        ("/try", "try_it"),
    )
]
