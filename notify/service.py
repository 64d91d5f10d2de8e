"""Delivery as a background service: the dispatcher plus fair reminders, in-app or alone."""

from __future__ import annotations

import asyncio
import io
import logging
import signal
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
# After Ctrl-C or SIGTERM, how long the sends and writes under way get to end.
STOP_GRACE_SECONDS = 10.0


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


# Logged once the stop signals are handled: from then on SIGINT or SIGTERM ends the worker cleanly.
READY = "delivering; SIGINT or SIGTERM stops the worker"


async def deliver_until_stopped(
    dispatcher: Dispatcher, settings: NotifyConfig, grace: float = STOP_GRACE_SECONDS
) -> None:
    """`deliver` until SIGINT or SIGTERM, then give the work `grace` seconds to end.

    A worker must stop when told: one CI run saw `jobline worker` ignore Ctrl-C for 30 s after
    its broadcast was done, its threads idle and its loop waiting. If that happens again, the
    worker still stops and logs where each task was waiting.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    log.info("%s", READY)
    work = asyncio.ensure_future(deliver(dispatcher, settings))
    told = asyncio.ensure_future(stop.wait())
    await asyncio.wait((work, told), return_when=asyncio.FIRST_COMPLETED)
    told.cancel()
    if work.done():
        work.result()  # delivery ended on its own: say why
        return
    work.cancel()
    ended, _ = await asyncio.wait((work,), timeout=grace)
    if not ended:
        stacks = io.StringIO()
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.print_stack(file=stacks)
        log.warning(
            "delivery did not end %.0f s after the stop; leaving it:\n%s", grace, stacks.getvalue()
        )
