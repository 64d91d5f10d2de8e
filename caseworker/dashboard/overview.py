"""The Overview page: how Jobline is doing today."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from caseworker.dashboard.web import render


def overview(request: Request) -> Response:
    """Seekers, applications, handoffs and broadcasts at a glance."""
    return render(request, "overview.html", title="overview")


routes = [Route("/", overview, methods=["GET"])]
