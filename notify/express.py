"""Replies sent at once: a turn claims its own replies, and they go out as soon as it commits.

A turn writes its replies already `sending` (one attempt, leased), in the transaction that
handles the message, and hands them here; each turn's replies go out in order on the
dispatcher's event loop, and the results are recorded in batches. The exactly-once rule is the
dispatcher's: a row is `sending` before the provider call, and one left `sending` by a crash
is reconciled when its lease ends. Retries, broadcasts, quiet hours, rate limits and
everything after a crash stay with the dispatcher; these sends share each channel's rate limit
with it (a channel with several lines, the office phones, is never sent here).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence
from datetime import timedelta

from notify.channel import Wait
from notify.dispatcher import (
    RECORD_CHUNK,
    RECORD_EVERY,
    UNLIMITED_ROUNDS,
    Claimed,
    Dispatcher,
    Outcome,
)

log = logging.getLogger(__name__)


class Express:
    """Sends a committed turn's replies at once through the dispatcher's channels and loop."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.lease: timedelta = dispatcher.lease
        # Replies handed but not yet sent: past this many, turns leave theirs to the dispatcher.
        self.most_waiting = dispatcher.concurrency * UNLIMITED_ROUNDS
        self._waiting = 0
        self._count_lock = threading.Lock()
        self._slots: asyncio.Semaphore | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self._results: list[Outcome] = []
        self._flush_at: asyncio.TimerHandle | None = None

    def takes(self, channel: str) -> bool:
        """Whether a reply on this channel may be claimed by its turn and sent at once."""
        dispatcher = self.dispatcher
        loop = dispatcher.running_loop()
        if loop is None or channel not in dispatcher.channels or channel in dispatcher.lines:
            return False
        # Its sends share the channel's rate limit with the dispatcher's; one that would wait
        # long for its turn is left to the dispatcher, so no reply waits near its lease's end.
        limiter = dispatcher.limiters[channel]
        behind = limiter.next_at - time.monotonic() if limiter.interval else 0.0
        return behind < self.lease.total_seconds() / 4 and self._waiting < self.most_waiting

    def hand(self, rows: Sequence[Claimed]) -> None:
        """Send a turn's claimed replies, in order (safe to call from any thread)."""
        loop = self.dispatcher.running_loop()
        if not rows:
            return
        if loop is None:  # the dispatcher stopped: the lease ends and they are reconciled
            log.warning("%d replies claimed while delivery was stopped", len(rows))
            return
        with self._count_lock:
            self._waiting += len(rows)
        self.dispatcher.in_flight.update(row.id for row in rows)
        handed = time.monotonic()
        try:
            loop.call_soon_threadsafe(self._start, list(rows), handed)
        except RuntimeError:  # the loop closed meanwhile: reconciled when the lease ends
            with self._count_lock:
                self._waiting -= len(rows)
            self.dispatcher.in_flight.difference_update(row.id for row in rows)
            log.warning("%d replies claimed as delivery stopped", len(rows))

    def _start(self, rows: list[Claimed], handed: float) -> None:
        task = asyncio.ensure_future(self._send(rows, handed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, rows: list[Claimed], handed: float) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.dispatcher.concurrency)
        async with self._slots:
            for row in rows:
                with self._count_lock:
                    self._waiting -= 1
                if time.monotonic() - handed > self.lease.total_seconds() / 2:
                    # Waited too long to send safely inside the lease: the dispatcher sends it.
                    outcome = Outcome(row, error=Wait("waited too long to send at once", 0.0))
                else:
                    limiter = self.dispatcher.limiters[row.channel]
                    if limiter.interval:
                        await limiter.wait()
                    outcome = await self.dispatcher.send_one(row)
                self._results.append(outcome)
        if len(self._results) >= RECORD_CHUNK:
            self._flush()
        elif self._flush_at is None:
            self._flush_at = asyncio.get_running_loop().call_later(RECORD_EVERY, self._flush)

    def _flush(self) -> None:
        """Record the results so far in one transaction, on the dispatcher's database thread."""
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        batch, self._results = self._results, []
        if not batch:
            return
        writing = asyncio.ensure_future(self.dispatcher.in_db(self.dispatcher.record, batch))

        def recorded(done: asyncio.Future[None]) -> None:
            self.dispatcher.in_flight.difference_update(o.claimed.id for o in batch)
            if not done.cancelled() and done.exception() is not None:
                # Left `sending`: reconciled when the lease ends, never sent twice.
                log.error("recording %d sends failed: %r", len(batch), done.exception())
            elif any(outcome.error is not None for outcome in batch):
                self.dispatcher.wake()  # a row queued again (a retry) is the dispatcher's

        writing.add_done_callback(recorded)
