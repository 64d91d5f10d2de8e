"""The Broadcasts page: write a message or pick a fair, choose who, preview, send, watch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import anyio.to_thread
from sqlalchemy import select
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from caseworker import broadcasting
from caseworker.casework import CaseworkError
from caseworker.dashboard import audit
from caseworker.dashboard.web import PREFIX, context, explain, me, now, render, unit_of_work
from db.models import Broadcast, JobFair, OutboxStatus
from notify import broadcasts
from reference import load_reference

# A textarea holds at most this much; the draft check then says what is too long.
MAX_TEXT = 10_000
# Statuses that mean texts are still on their way (the counts keep updating).
UNDER_WAY = (OutboxStatus.QUEUED, OutboxStatus.SENDING)


@dataclass(frozen=True)
class Composed:
    """The form as typed: a message or a fair (one of the two), and to whom."""

    text: str = ""
    fair_id: str = ""
    segment: str = "all"

    def as_dict(self) -> dict[str, str]:
        """For the audit log."""
        return {"text": self.text, "fair": self.fair_id, "segment": self.segment}


async def _composed(request: Request) -> Composed:
    form = await request.form()
    return Composed(
        str(form.get("text", ""))[:MAX_TEXT],
        str(form.get("fair", "")).strip(),
        str(form.get("segment", "all")),
    )


def _draft(request: Request, composed: Composed) -> broadcasting.Draft:
    """Check the form; a CaseworkError says what to change."""
    if composed.fair_id and not composed.fair_id.isdigit():
        raise CaseworkError("Choose a fair from the list.", "choose_fair")
    with unit_of_work(request) as session:
        return broadcasting.draft(
            session,
            segment=composed.segment,
            send_at=now(request),
            settings=context(request).settings,
            text=composed.text,
            fair_id=int(composed.fair_id) if composed.fair_id else None,
        )


def _compose_page(
    request: Request, composed: Composed | None = None, status: int = 200, **values: Any
) -> Response:
    with unit_of_work(request) as session:
        choices = broadcasting.segment_choices(session, load_reference(), now(request))
        fairs = [
            (fair.id, fair.name)
            for fair in session.scalars(
                select(JobFair).where(JobFair.starts_at > now(request)).order_by(JobFair.starts_at)
            )
        ]
        recent = [_summary(session, row) for row in broadcasting.recent(session)]
    values.setdefault("problem_text", None)
    values.setdefault("shown", None)
    return render(
        request,
        "broadcasts.html",
        status,
        title="broadcasts",
        composed=composed or Composed(),
        choices=choices,
        fairs=fairs,
        recent=recent,
        **values,
    )


def broadcasts_page(request: Request) -> Response:
    """The form, and the newest broadcasts with their counts."""
    return _compose_page(request)


async def preview(request: Request) -> Response:
    """Texts per language, SMS segments, recipients per channel, cost, and when it goes out."""
    me(request)
    composed = await _composed(request)
    try:
        chosen = _draft(request, composed)

        def look() -> broadcasting.BroadcastPreview:
            with unit_of_work(request) as session:
                return broadcasting.preview(session, chosen, context(request).settings)

        shown = await anyio.to_thread.run_sync(look)
    except CaseworkError as error:
        return _compose_page(request, composed, 400, problem_text=explain(request, error))
    zone = ZoneInfo(context(request).settings.notify.timezone)
    goes = f"{shown.goes_at.astimezone(zone):%Y-%m-%d %H:%M}"
    return _compose_page(request, composed, shown=shown, goes=goes)


async def send(request: Request) -> Response:
    """Start the broadcast, queue its texts after answering, and show its page."""
    staff = me(request)
    composed = await _composed(request)
    try:
        chosen = _draft(request, composed)
    except CaseworkError as error:
        return _compose_page(request, composed, 400, problem_text=explain(request, error))
    with unit_of_work(request) as session:
        broadcast = broadcasting.start(session, chosen, now(request))
        audit.record(
            session,
            staff,
            "broadcast.send",
            f"broadcast {broadcast.id}",
            now(request),
            None,
            composed.as_dict(),
        )
        broadcast_id = broadcast.id
    dashboard = context(request)
    queue = BackgroundTask(broadcasts.queue, dashboard.sessions, broadcast_id, dashboard.settings)
    return RedirectResponse(
        f"{PREFIX}/broadcasts/{broadcast_id}?sent=1", status_code=303, background=queue
    )


@dataclass(frozen=True)
class Summary:
    """A broadcast and its counts by status."""

    id: int
    kind: str
    segment: str
    status: str
    recipients: int
    text: str
    created_at: Any
    counts: dict[str, int]

    @property
    def under_way(self) -> bool:
        """Still queueing, or texts waiting to go."""
        return self.status == "queueing" or any(self.counts[s] for s in UNDER_WAY)


def _summary(session: Any, row: Broadcast) -> Summary:
    found = broadcasts.report(session, row.id)
    fair = session.get(JobFair, row.fair_id) if row.fair_id else None
    return Summary(
        row.id,
        row.kind,
        row.segment,
        str(found["status"]),
        int(found["recipients"]),
        row.text or (fair.name if fair is not None else ""),
        row.created_at,
        dict(found["counts"]),
    )


def _one(request: Request) -> Summary | None:
    broadcast_id = int(request.path_params["broadcast_id"])
    with unit_of_work(request) as session:
        row = session.get(Broadcast, broadcast_id)
        return _summary(session, row) if row is not None else None


def broadcast_page(request: Request) -> Response:
    """One broadcast: what it said, to whom, and its counts by status (updating while it sends)."""
    found = _one(request)
    if found is None:
        return render(request, "message.html", 404, message="not_found")
    sent = request.query_params.get("sent") == "1"
    return render(
        request,
        "broadcast.html",
        title="broadcasts",
        b=found,
        statuses=broadcasts.STATUSES,
        sent=sent,
    )


def counts(request: Request) -> Response:
    """The counts alone, for htmx to swap in every two seconds."""
    found = _one(request)
    if found is None:
        return render(request, "message.html", 404, message="not_found")
    return render(request, "broadcast_counts.html", b=found, statuses=broadcasts.STATUSES)


routes = [
    Route("/broadcasts", broadcasts_page, methods=["GET"]),
    Route("/broadcasts/preview", preview, methods=["POST"]),
    Route("/broadcasts/send", send, methods=["POST"]),
    Route("/broadcasts/{broadcast_id:int}", broadcast_page, methods=["GET"]),
    Route("/broadcasts/{broadcast_id:int}/counts", counts, methods=["GET"]),
]
