"""Assemble the running Jobline: conversation service, channels, background services."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from bot.app import Runtime, create_app
from bot.channels.console import ConsolePhone
from bot.channels.sms_routes import install_android, sms_channel
from bot.channels.twilio_sms import install_twilio
from bot.channels.wechat import install_wechat
from bot.conversation import Jobline
from bot.database import Database
from bot.settings import Settings
from caseworker.dashboard.app import dashboard_routes
from caseworker.dashboard.config import signing_key
from caseworker.dashboard.web import DashboardContext, no_bot
from db.session import RESUMING, first_to
from nlu.understand import Understander
from notify.channel import Channel
from notify.dispatcher import Dispatcher
from notify.express import Express
from notify.service import deliver

log = logging.getLogger(__name__)
# Messages still unanswered this long after they came (a turn lost to a dropped database
# connection) get their turn again, checked this often.
RESUME_AFTER = timedelta(minutes=1)
RESUME_EVERY_SECONDS = 30.0


def telegram_channel(settings: Settings) -> Channel | None:
    """The Telegram channel, when a bot token is configured."""
    if not settings.telegram.token:
        return None
    from bot.channels.telegram import TelegramChannel, make_bot  # python-telegram-bot: 17 MB

    return TelegramChannel(make_bot(settings))


# Channel name -> factory returning the channel, or None when the settings leave it off; what
# `jobline worker` sends through (`jobline run` also uses the channels its runtime holds).
def wechat_channel(settings: Settings) -> Channel | None:
    """The WeChat channel, when an app id is configured (its token is shared in the database)."""
    from bot.channels.wechat import WeChatChannel, check_wechat_settings, wechat_api, wechat_enabled
    from db.models import utcnow
    from db.session import make_engine, make_session_factory

    if not wechat_enabled(settings):
        return None
    check_wechat_settings(settings)
    sessions = make_session_factory(make_engine(settings.database_url))
    return WeChatChannel(wechat_api(settings, sessions, utcnow), settings.wechat.templates)


CHANNEL_FACTORIES: dict[str, Callable[[Settings], Channel | None]] = {
    "sms": sms_channel,
    "telegram": telegram_channel,
    "wechat": wechat_channel,
}


def outbound_channels(settings: Settings, have: Collection[str] = ()) -> dict[str, Channel]:
    """Every channel the settings turn on, by name, except those in `have`."""
    channels: dict[str, Channel] = {}
    for name, factory in CHANNEL_FACTORIES.items():
        channel = None if name in have else factory(settings)
        if channel is not None:
            channels[name] = channel
    return channels


def add_delivery(runtime: Runtime, settings: Settings) -> Dispatcher:
    """Run delivery inside `jobline run`; replies wake it at once.

    Sends through the channels the runtime already holds, then any that CHANNEL_FACTORIES adds.
    """
    held = runtime.channels
    channels = {**outbound_channels(settings, held), **held}
    dispatcher = Dispatcher(
        runtime.database.sessions, channels, settings, clock=runtime.jobline.clock
    )
    runtime.jobline.on_reply.append(dispatcher.wake)
    runtime.jobline.express = Express(dispatcher)
    runtime.health["delivery"] = lambda: "ok" if dispatcher.healthy else "degraded"

    async def service() -> None:
        await deliver(dispatcher, settings)

    runtime.services.append(service)
    return dispatcher


def check_settings(settings: Settings) -> None:
    """Raise SettingsError for a channel the settings turn on but leave incomplete."""
    from bot.channels.android_sms import check_gateway_settings, gateway_enabled
    from bot.channels.telegram_config import check_telegram_settings
    from bot.channels.twilio_sms import check_twilio_settings, twilio_enabled
    from bot.channels.wechat import check_wechat_settings, wechat_enabled

    if twilio_enabled(settings):
        check_twilio_settings(settings)
    if gateway_enabled(settings):
        check_gateway_settings(settings)
    if wechat_enabled(settings):
        check_wechat_settings(settings)
    if settings.telegram.token:
        check_telegram_settings(settings)


def build_runtime(
    settings: Settings, database: Database, understander: Understander | None = None
) -> Starlette:
    """The web app with every channel and service the settings turn on."""
    jobline = Jobline(settings, database.sessions, understander=understander)
    runtime = Runtime(database=database, jobline=jobline)

    def resume(before: datetime) -> None:
        """Take lost turns; of the processes sharing a PostgreSQL, one at a time does it."""
        with first_to(database.sessions, RESUMING) as mine:
            if mine:
                jobline.resume(before)

    async def resume_unhandled() -> None:
        """At start, turns a stopped process left; then, now and again, turns lost meanwhile."""
        await asyncio.to_thread(resume, jobline.clock())
        while True:
            await asyncio.sleep(RESUME_EVERY_SECONDS)
            try:
                await asyncio.to_thread(resume, jobline.clock() - RESUME_AFTER)
            except Exception:  # the database is away: the next round tries again
                log.exception("resuming unanswered messages failed")

    runtime.services.append(resume_unhandled)
    routes: list[BaseRoute] = []
    routes += install_twilio(runtime, settings)
    routes += install_android(runtime, settings)  # after Twilio: it routes some SMS to it
    routes += install_wechat(runtime, settings)
    if settings.telegram.token:
        from bot.channels.telegram import telegram_gateway, telegram_routes

        telegram = telegram_gateway(settings, runtime.inbox)
        runtime.telegram = telegram
        runtime.channels["telegram"] = telegram.channel
        runtime.services.append(telegram.run)
        runtime.health["telegram"] = telegram.health
        routes += telegram_routes()
    add_delivery(runtime, settings)  # last: it sends through every channel added above
    routes += dashboard_routes(dashboard_context(settings, runtime))
    return create_app(runtime, routes)


def dashboard_context(settings: Settings, runtime: Runtime) -> DashboardContext:
    """What the caseworker dashboard uses of the running Jobline."""
    telegram = runtime.telegram
    return DashboardContext(
        sessions=runtime.database.sessions,
        clock=lambda: runtime.jobline.clock(),  # read each time: tests move the clock
        key=signing_key(settings.dashboard),
        phone_region=settings.phone_region,
        idle_seconds=settings.dashboard.idle_hours * 3600,
        secure_cookies=settings.public_base_url.startswith("https://"),
        settings=settings,
        phone=ConsolePhone(runtime.jobline),
        telegram_username=telegram.username if telegram is not None else no_bot,
    )
