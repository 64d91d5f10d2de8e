"""What every dashboard page shares: the context, the signed-in staff member, rendering."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

from caseworker.dashboard.visit import Visit
from caseworker.dashboard.words import from_accept_language, problem, word
from caseworker.tryit import Conversations
from db.problems import Problem
from db.session import transaction
from notify.config import NotifyConfig

T = TypeVar("T")
PREFIX = "/dashboard"
STATIC = "/static/dashboard"
TEMPLATES = Path(__file__).resolve().parent / "templates"

# The header's links: (path under PREFIX, word key); ADMIN_NAV only for admins.
NAV = (
    ("/", "overview"),
    ("/handoffs", "handoffs"),
    ("/seekers", "seekers"),
    ("/jobs", "jobs"),
    ("/applications", "applications"),
    ("/fairs", "fairs"),
    ("/broadcasts", "broadcasts"),
    ("/try", "try_it"),
)
ADMIN_NAV = (("/staff", "staff"), ("/audit", "audit_log"))


def no_bot() -> str | None:
    """No Telegram bot runs."""
    return None


@dataclass(frozen=True)
class DashboardContext:
    """What the dashboard needs from the running Jobline (bot/runtime.py builds it)."""

    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]
    key: bytes
    phone_region: str
    # Jobline's settings as delivery reads them (notify, loans), for broadcasts and dates.
    settings: NotifyConfig
    idle_seconds: float = 8 * 3600.0
    secure_cookies: bool = False
    # Try it's phone: takes a test seeker's text through the running Jobline.
    phone: Conversations | None = None
    # The Telegram bot's name once Telegram answered (for a fair's QR code); None without a bot.
    telegram_username: Callable[[], str | None] = no_bot


@dataclass(frozen=True)
class StaffView:
    """The signed-in staff member, as pages see them."""

    id: int
    email: str
    name: str
    role: str
    language: str

    @property
    def is_admin(self) -> bool:
        """May manage staff and read the audit log."""
        return self.role == "admin"


def context(request: Request) -> DashboardContext:
    """The dashboard context the guard put on the request."""
    found: DashboardContext = request.state.dashboard
    return found


def visit(request: Request) -> Visit:
    """This browser's visit (replace it with `set_visit`)."""
    found: Visit = request.state.visit
    return found


def set_visit(request: Request, new: Visit) -> None:
    """Change the visit; the guard writes it into the cookie of the response."""
    request.state.visit = new


def me(request: Request) -> StaffView:
    """The signed-in staff member (the guard lets no one else reach a page)."""
    staff: StaffView | None = request.state.staff
    if staff is None:
        raise HTTPException(401)
    return staff


def admin(request: Request) -> StaffView:
    """The signed-in staff member, who must be an admin (else 403)."""
    staff = me(request)
    if not staff.is_admin:
        raise HTTPException(403)
    return staff


def language(request: Request) -> str:
    """The staff member's language, else the one chosen on this browser, else the browser's."""
    staff: StaffView | None = request.state.staff
    if staff is not None:
        return staff.language
    return visit(request).language or from_accept_language(
        request.headers.get("accept-language", "")
    )


def explain(request: Request, error: Problem) -> str:
    """What is wrong with a request, in the staff member's language and words."""
    return problem(language(request), error)


@contextmanager
def unit_of_work(request: Request) -> Iterator[Session]:
    """One transaction on the Jobline database."""
    with transaction(context(request).sessions) as session:
        yield session


def page_number(request: Request) -> int:
    """The ?page= number, 1 when missing or not a number."""
    try:
        return max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        return 1


def now(request: Request) -> datetime:
    """The Jobline clock's now."""
    return context(request).clock()


async def in_thread(work: Callable[..., T], *args: Any) -> T:
    """Run blocking work (the database, password hashing) off the event loop."""
    return await anyio.to_thread.run_sync(partial(work, *args))


environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    """A page from a template, with the words, navigation and CSRF token every page uses."""
    lang = language(request)
    staff: StaffView | None = request.state.staff
    nav = NAV + (ADMIN_NAV if staff is not None and staff.is_admin else ())
    html = environment.get_template(template).render(
        t=partial(word, lang),
        lang=lang,
        staff=staff,
        csrf=visit(request).csrf,
        prefix=PREFIX,
        static=STATIC,
        nav=nav,
        here=request.url.path,
        **values,
    )
    return HTMLResponse(html, status_code=status_code)
