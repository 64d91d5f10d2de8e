"""The Overview page: how Jobline is doing today."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from caseworker.dashboard.chart import line_chart
from caseworker.dashboard.figures import figures
from caseworker.dashboard.web import context, now, render, unit_of_work

LINES = (("registrations", "#0b5cad"), ("messages_in", "#1b6e3a"), ("messages_out", "#c06000"))


def waited(span: timedelta | None) -> tuple[int, int] | None:
    """A wait as (hours, minutes)."""
    if span is None:
        return None
    minutes = max(0, int(span.total_seconds() // 60))
    return minutes // 60, minutes % 60


def overview(request: Request) -> Response:
    """Seekers, applications, handoffs and broadcasts at a glance, and 30 days of traffic."""
    timezone = context(request).settings.notify.timezone
    with unit_of_work(request) as session:
        found = figures(session, now(request), timezone)
    chart = line_chart(
        [f"{d.day:%m-%d}" for d in found.days],
        [(key, colour, [getattr(d, key) for d in found.days]) for key, colour in LINES],
    )
    return render(
        request,
        "overview.html",
        title="overview",
        figures=found,
        oldest=waited(found.oldest_wait),
        chart=chart,
    )


routes = [Route("/", overview, methods=["GET"])]
