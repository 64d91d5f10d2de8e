"""Assemble the running Jobline: conversation service, channels, background services."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette

from bot.app import Runtime, create_app
from bot.conversation import Jobline
from bot.settings import Settings
from db.setup import Database
from nlu.understand import Understander


def build_runtime(
    settings: Settings, database: Database, understander: Understander | None = None
) -> Starlette:
    """The web app with every channel and service the settings turn on."""
    jobline = Jobline(settings, database.sessions, understander=understander)
    runtime = Runtime(database=database, jobline=jobline)

    async def resume_unhandled() -> None:
        await asyncio.to_thread(jobline.resume)

    runtime.services.append(resume_unhandled)
    return create_app(runtime)
