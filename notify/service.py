"""Delivery as a background service: the dispatcher plus fair reminders, in-app or alone."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Channel
from bot.settings import Settings
from notify import broadcasts
from notify.dispatcher import Dispatcher
from notify.fairs import reminders_due

if TYPE_CHECKING:
    from bot.app import Runtime

log = logging.getLogger(__name__)
REMINDER_CHECK_SECONDS = 600.0
# A broadcast still queueing this long after it was created was interrupted (idempotent to redo).
STALLED = timedelta(minutes=15)


def sms_channel(settings: Settings) -> Channel | None:
    """The SMS channel: Twilio, the office's phones, or both routed by country."""
    from bot.channels.sms_routes import sms_channel

    return sms_channel(settings)


def telegram_channel(settings: Settings) -> Channel | None:
    """The Telegram channel, when a bot token is configured."""
    from bot.channels.telegram import TelegramChannel, make_bot

    if not settings.telegram.token:
        return None
    return TelegramChannel(make_bot(settings))


# Channel name -> factory returning the channel, or None when the settings leave it off; what
# `jobline worker` sends through (`jobline run` also uses the channels its runtime holds).
CHANNEL_FACTORIES: dict[str, Callable[[Settings], Channel | None]] = {
    "sms": sms_channel,
    "telegram": telegram_channel,
}


def outbound_channels(settings: Settings) -> dict[str, Channel]:
    """Every channel the settings turn on, by name."""
    channels: dict[str, Channel] = {}
    for name, factory in CHANNEL_FACTORIES.items():
        channel = factory(settings)
        if channel is not None:
            channels[name] = channel
    return channels


async def remind_forever(
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: Callable[[], datetime],
    every: float = REMINDER_CHECK_SECONDS,
) -> None:
    """Every few minutes: reminders for tomorrow's fairs, and broadcasts left half-queued."""
    while True:
        try:
            queued = await asyncio.to_thread(reminders_due, sessions, settings, clock())
            if queued:
                log.info("queued fair reminders: broadcasts %s", queued)
            for broadcast_id in broadcasts.unfinished(sessions, STALLED, clock()):
                log.info("finishing broadcast %d, whose queueing stopped half-way", broadcast_id)
                await asyncio.to_thread(broadcasts.queue, sessions, broadcast_id, settings)
        except Exception:  # a failed check must not stop delivery; the next one retries
            log.exception("fair reminder check failed")
        await asyncio.sleep(every)


async def deliver(dispatcher: Dispatcher, settings: Settings) -> None:
    """Run the dispatcher and the reminder check until cancelled."""
    tasks = [
        asyncio.ensure_future(dispatcher.run()),
        asyncio.ensure_future(remind_forever(dispatcher.sessions, settings, dispatcher.clock)),
    ]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def add_delivery(runtime: Runtime, settings: Settings) -> Dispatcher:
    """Run delivery inside `jobline run`; replies wake it at once.

    Sends through the channels the runtime already holds in extras["channels"] (name -> Channel),
    then any that CHANNEL_FACTORIES adds.
    """
    channels = {**outbound_channels(settings), **runtime.extras.get("channels", {})}
    dispatcher = Dispatcher(
        runtime.database.sessions, channels, settings, clock=runtime.jobline.clock
    )
    runtime.jobline.on_reply.append(dispatcher.wake)
    runtime.health["delivery"] = lambda: "ok" if dispatcher.healthy else "degraded"

    async def service() -> None:
        await deliver(dispatcher, settings)

    runtime.services.append(service)
    return dispatcher
