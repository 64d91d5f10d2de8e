"""Assemble the running Jobline: conversation service, channels, background services."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from bot.app import Runtime, create_app
from bot.channels.console import ConsolePhone
from bot.channels.twilio_sms import install_twilio
from bot.conversation import Jobline
from bot.settings import Settings
from caseworker.dashboard.app import dashboard_routes
from caseworker.dashboard.config import signing_key
from caseworker.dashboard.web import DashboardContext
from db.setup import Database
from notify.service import add_delivery


def build_runtime(settings: Settings, database: Database) -> Starlette:
    """The web app with every channel and service the settings turn on."""
    jobline = Jobline(settings, database.sessions)
    runtime = Runtime(database=database, jobline=jobline)

    async def resume_unhandled() -> None:
        await asyncio.to_thread(jobline.resume, jobline.clock())

    runtime.services.append(resume_unhandled)
    routes: list[BaseRoute] = []
    routes += install_twilio(runtime, settings)
    if settings.telegram.token:
        from bot.channels.telegram import telegram_gateway, telegram_routes

        telegram = telegram_gateway(settings, jobline)
        runtime.extras["telegram"] = telegram
        # Channels by name, for whatever sends the outbox (the dispatcher).
        runtime.extras.setdefault("channels", {})["telegram"] = telegram.channel
        runtime.services.append(telegram.run)
        runtime.health["telegram"] = telegram.health
        routes += telegram_routes()
    add_delivery(runtime, settings)  # last: it sends through every channel added above
    routes += dashboard_routes(dashboard_context(settings, runtime))
    return create_app(runtime, routes)


def dashboard_context(settings: Settings, runtime: Runtime) -> DashboardContext:
    """What the caseworker dashboard uses of the running Jobline."""
    telegram = runtime.extras.get("telegram")
    return DashboardContext(
        sessions=runtime.database.sessions,
        clock=lambda: runtime.jobline.clock(),  # read each time: tests move the clock
        key=signing_key(settings.dashboard),
        phone_region=settings.phone_region,
        idle_seconds=settings.dashboard.idle_hours * 3600,
        secure_cookies=settings.public_base_url.startswith("https://"),
        settings=settings,
        extras={
            "jobline": runtime.jobline,
            "phone": ConsolePhone(runtime.jobline),
            "telegram_username": telegram.username if telegram is not None else lambda: None,
            **runtime.extras,
        },
    )
