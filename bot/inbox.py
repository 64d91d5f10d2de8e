"""Where channels hand in what arrives: store a message, schedule its turn, record a report."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from typing import Any

from sqlalchemy import text
from starlette.background import BackgroundTask

from bot.channels.base import InboundMessage
from bot.conversation import Jobline, Received
from bot.turn_threads import TurnThreads
from db.session import transaction
from notify.outbox import DeliveryReport, apply_report

log = logging.getLogger(__name__)
# Turns at once: each holds its thread while it reads, understands and writes. A PostgreSQL
# turn mostly waits on round trips; a SQLite turn is CPU work under one lock, and past two
# threads they only take the GIL from each other and from the event loop (the full workload
# of bench/conversations.py: 2 threads 148-174 turns/s against 108-121 with 4, and 125-145
# with 1, runs alternated at load 7-12). On PostgreSQL, 8 threads against 4 on a faster machine
# (2026-11-30 06:10, load 2.4-3.0, alternated): 402, 401 against 367, 349 turns/s, p99 260, 204
# against 303, 238 ms; 16 against 8 no better (364, 373 against 314, 416 turns/s).
TURN_WORKERS = 8
SQLITE_TURN_WORKERS = 2


class Inbox:
    """A channel's one way in: it stores, the turn runs later on the inbox's own threads."""

    def __init__(self, jobline: Jobline, workers: int | None = None) -> None:
        self.jobline = jobline
        if workers is None:
            workers = TURN_WORKERS if jobline.postgres else SQLITE_TURN_WORKERS
        self.threads = TurnThreads(workers)

    def now(self) -> datetime:
        """The conversation service's clock (tests move it)."""
        return self.jobline.clock()

    async def store(self, inbound: InboundMessage) -> Received:
        """Store the message (once per provider id); answer the provider only after this."""
        return await asyncio.to_thread(self.jobline.receive, inbound)

    async def arrive(self, inbound: InboundMessage) -> tuple[Received, asyncio.Future[None]]:
        """Store the message, then take its turn on the same thread (one hand-off, not two):
        the stored message once stored (answer the provider only after this), and the turn's
        future, done when the turn is (a failed turn is logged; the message stays stored)."""
        loop = asyncio.get_running_loop()
        stored: asyncio.Future[Received] = loop.create_future()
        turned: asyncio.Future[None] = loop.create_future()

        def store() -> Callable[[], None] | None:
            try:
                received = self.jobline.receive(inbound)
            except BaseException as error:
                _tell(loop, stored, None, error)
                _tell(loop, turned, None)
                return None
            _tell(loop, stored, received)
            return self._turn(loop, turned, received, inbound.kind)

        self.threads.store(store)
        return await stored, turned

    @staticmethod
    def awaiting(turned: asyncio.Future[None]) -> BackgroundTask:
        """A response's background task that ends with the turn (a test's client reads the
        replies once the response is done)."""
        return BackgroundTask(_wait, turned)

    def turn_later(self, received: Received, kind: str = "text") -> BackgroundTask:
        """The turn, to run after the webhook's response."""
        # A provider's retry of a stored message takes its turn again only if the turn never
        # finished (take_turn skips a handled message): a lost turn is recovered, never doubled.
        return BackgroundTask(self.take_turn, received, kind)

    async def take_turn(self, received: Received, kind: str = "text") -> None:
        """Take the turn of a stored message; a failure is logged and the message stays stored."""
        loop = asyncio.get_running_loop()
        turned: asyncio.Future[None] = loop.create_future()
        self.threads.turn(self._turn(loop, turned, received, kind))
        await turned

    def _turn(
        self,
        loop: asyncio.AbstractEventLoop,
        turned: asyncio.Future[None],
        received: Received,
        kind: str,
    ) -> Callable[[], None]:
        """A stored message's turn for a thread; `turned` is done when it is, failed or not."""

        def turn() -> None:
            try:
                self.jobline.take_turn(received, kind)
            except Exception:  # "received": a retry or the resume service takes it
                log.exception("turn failed for message %d", received.message_id)
            finally:
                _tell(loop, turned, None)

        return turn

    async def report(self, report: DeliveryReport) -> bool:
        """Record a provider's delivery report on its outbox row; False when no row has it."""

        def store() -> bool:
            with transaction(self.jobline.sessions) as session:
                return apply_report(session, report, self.now())

        return await asyncio.to_thread(store)

    async def database_answers(self) -> bool:
        """Does the database answer a trivial query?"""

        def ping() -> bool:
            try:
                with self.jobline.sessions() as session:
                    session.execute(text("SELECT 1"))
                return True
            except Exception:  # any failure means the database is not there
                return False

        return await asyncio.to_thread(ping)


async def _wait(turned: asyncio.Future[None]) -> None:
    await turned


def _tell(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    result: object,
    error: BaseException | None = None,
) -> None:
    """Settle a future of the loop from a thread (unless its waiter gave up, or the loop closed)."""
    with suppress(RuntimeError):  # the loop closed: nobody waits any more
        loop.call_soon_threadsafe(_settle, future, result, error)


def _settle(future: asyncio.Future[Any], result: object, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
