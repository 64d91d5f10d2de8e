"""Assemble the running Jobline: conversation service, channels, background services."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from bot.app import Runtime, create_app
from bot.channels.twilio_sms import (
    TwilioChannel,
    TwilioWebhooks,
    check_twilio_settings,
    twilio_enabled,
)
from bot.conversation import Jobline
from bot.settings import Settings
from db.setup import Database

log = logging.getLogger(__name__)


def build_runtime(settings: Settings, database: Database) -> Starlette:
    """The web app with every channel and service the settings turn on."""
    jobline = Jobline(settings, database.sessions)
    runtime = Runtime(database=database, jobline=jobline)
    routes: list[BaseRoute] = []
    if twilio_enabled(settings):
        check_twilio_settings(settings)
        hooks = TwilioWebhooks(settings, jobline)
        routes += hooks.routes()
        runtime.services.append(hooks.resume)
        runtime.extras.setdefault("channels", {})["sms"] = TwilioChannel(settings)
        log.info(
            "Twilio SMS channel on: webhooks at %s/webhooks/twilio/sms", settings.public_base_url
        )
    else:
        log.info(
            "Twilio SMS channel off: set twilio.account_sid (JOBLINE_TWILIO__ACCOUNT_SID) to use it"
        )
    return create_app(runtime, routes)
