"""Delivery as a background service: the dispatcher plus fair reminders, in-app or alone."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from notify import broadcasts
from notify.config import NotifyConfig
from notify.dispatcher import Dispatcher
from notify.fairs import reminders_due

log = logging.getLogger(__name__)
REMINDER_CHECK_SECONDS = 600.0
# A broadcast still queueing this long after it was created was interrupted (idempotent to redo).
STALLED = timedelta(minutes=15)


async def remind_forever(
    sessions: sessionmaker[Session],
    settings: NotifyConfig,
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


async def deliver(dispatcher: Dispatcher, settings: NotifyConfig) -> None:
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
