"""Assemble the running Jobline: conversation service, channels, background services."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from bot.app import Runtime, create_app
from bot.channels.sms_routes import install_android
from bot.channels.twilio_sms import install_twilio
from bot.conversation import Jobline
from bot.settings import Settings
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
    routes += install_android(runtime, settings)  # after Twilio: it routes some SMS to it
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
    return create_app(runtime, routes)
