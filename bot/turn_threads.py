"""The inbox's threads: a message is stored and its turn taken on one hand-off from the loop."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)
# A store: it stores the message and gives back its turn (None: no turn to take).
Store = Callable[[], Callable[[], None] | None]


class TurnThreads:
    """A few threads that store messages and take their turns: stores first, then turns in
    the order their messages were stored.

    A store gives back its message's turn, queued by the thread that stored it with no trip
    back through the event loop; with nothing else waiting, that thread takes it next. A
    message waiting to be stored goes first (its webhook waits for that). Each hand-off
    between threads costs a wake-up and the GIL's hand-over: one per message, not two (bench/
    conversations.py, README Speed). A job's failure is logged; the thread goes on.
    """

    def __init__(self, workers: int, name: str = "turn") -> None:
        self._stores: deque[Store] = deque()
        self._turns: deque[Callable[[], None]] = deque()
        self._ready = threading.Condition(threading.Lock())
        self._workers = workers
        self._name = name
        self._idle = 0  # threads waiting for work and not yet woken
        self._started: list[threading.Thread] = []

    def store(self, job: Store) -> None:
        """Store a message on the first free thread (before any waiting turn)."""
        with self._ready:
            self._stores.append(job)
            self._wake()

    def turn(self, job: Callable[[], None]) -> None:
        """Take a turn on a free thread, after the messages waiting to be stored."""
        with self._ready:
            self._turns.append(job)
            self._wake()

    def _wake(self) -> None:
        """Called holding the lock: wake an idle thread, or start one while under the count."""
        if self._idle:
            self._idle -= 1  # counted off here: a second job before it wakes wakes another
            self._ready.notify()
        elif len(self._started) < self._workers:
            thread = threading.Thread(
                target=self._work, name=f"{self._name}_{len(self._started)}", daemon=True
            )
            self._started.append(thread)
            thread.start()

    def _work(self) -> None:
        ready = self._ready
        stores, turns = self._stores, self._turns
        follow: Callable[[], None] | None = None
        while True:
            with ready:
                if follow is not None:  # the turn of the message this thread just stored
                    turns.append(follow)
                    follow = None
                    if stores and self._idle:
                        self._idle -= 1
                        ready.notify()
                while not stores and not turns:
                    self._idle += 1  # its waker counts it off
                    ready.wait()
                job: Store | Callable[[], None] = stores.popleft() if stores else turns.popleft()
            follow = _safely(job)


def _safely(job: Callable[[], object]) -> Callable[[], None] | None:
    """Run a job; what it gives back to run next, if callable. A failure is logged."""
    try:
        follow = job()
    except Exception:  # each job settles its own futures; this is a bug, never a stop
        log.exception("an inbox job failed")
        return None
    return follow if callable(follow) else None
