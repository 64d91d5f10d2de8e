"""The ASGI app: channel webhooks, health, and the background services it runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot.conversation import Jobline
from bot.database import Database
from bot.inbox import Inbox
from db.models import Message
from notify.channel import Channel

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramGateway

FAILED_TURNS_WINDOW = timedelta(hours=1)
Service = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class Runtime:
    """What the web app shares: database, conversation service, inbox, channels, services."""

    database: Database
    jobline: Jobline
    inbox: Inbox = field(init=False)
    services: list[Service] = field(default_factory=list)
    health: dict[str, Callable[[], str]] = field(default_factory=dict)
    # Channels by name that replies leave through (the dispatcher sends through them).
    channels: dict[str, Channel] = field(default_factory=dict)
    telegram: TelegramGateway | None = None

    def __post_init__(self) -> None:
        self.inbox = Inbox(self.jobline)


async def health(request: Request) -> JSONResponse:
    """Is Jobline up, and is each part working?"""
    runtime: Runtime = request.app.state.runtime
    parts: dict[str, str] = {}
    try:

        def ping() -> None:
            with runtime.database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))

        await asyncio.to_thread(ping)
        parts["database"] = "ok"
    except Exception:  # health reports any database failure as "down"
        parts["database"] = "down"
    parts["nlu"] = "degraded" if runtime.jobline.understander.degraded else "ok"
    failed = await asyncio.to_thread(failed_turns, runtime) if parts["database"] == "ok" else 0
    parts["turns"] = "degraded" if failed else "ok"
    for name, check in runtime.health.items():
        parts[name] = check()
    status = "ok" if parts["database"] == "ok" else "down"
    if status == "ok" and any(value == "degraded" for value in parts.values()):
        status = "degraded"
    code = 200 if status != "down" else 503
    return JSONResponse(
        {"status": status, **parts, "failed_turns_last_hour": failed}, status_code=code
    )


def failed_turns(runtime: Runtime) -> int:
    """Messages of the last hour whose turn failed (each seeker was asked to send it again)."""
    since = runtime.jobline.clock() - FAILED_TURNS_WINDOW
    with runtime.database.sessions() as session:
        query = select(func.count(Message.id)).where(
            Message.status == "failed", Message.created_at >= since
        )
        return session.scalar(query) or 0


def create_app(runtime: Runtime, routes: list[BaseRoute] | None = None) -> Starlette:
    """Build the app; background services start with it and stop with it."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(service()) for service in runtime.services]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    app = Starlette(
        routes=[Route("/health", health), *(routes or [])],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app
