"""The inbox's threads: stores before waiting turns, turns in order, failures logged."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from bot.turn_threads import TurnThreads

WAIT = 10.0


def test_a_turn_runs_on_the_thread_that_stored_its_message() -> None:
    threads = TurnThreads(2)
    ran: dict[str, str] = {}
    done = threading.Event()

    def store() -> Callable[[], None]:
        ran["store"] = threading.current_thread().name

        def turn() -> None:
            ran["turn"] = threading.current_thread().name
            done.set()

        return turn

    threads.store(store)
    assert done.wait(WAIT)
    assert ran["turn"] == ran["store"]
    assert ran["store"].startswith("turn_")


def test_messages_waiting_to_be_stored_go_before_a_stored_messages_turn() -> None:
    threads = TurnThreads(1)
    order: list[str] = []
    release = threading.Event()
    done = threading.Event()

    def first_store() -> Callable[[], None]:
        order.append("store 1")
        release.wait(WAIT)  # meanwhile two more messages arrive
        return lambda: order.append("turn 1")

    def later_store(name: str, last: bool = False) -> Callable[[], Callable[[], None]]:
        def store() -> Callable[[], None]:
            order.append(f"store {name}")

            def turn() -> None:
                order.append(f"turn {name}")
                if last:
                    done.set()

            return turn

        return store

    threads.store(first_store)
    threads.store(later_store("2"))
    threads.store(later_store("3", last=True))
    release.set()
    assert done.wait(WAIT)
    # Turn 1 waited for the stores queued behind it; then the turns in the order stored.
    assert order == ["store 1", "store 2", "store 3", "turn 1", "turn 2", "turn 3"]


def test_turns_queued_alone_run_in_order_and_at_most_workers_at_once() -> None:
    threads = TurnThreads(2)
    lock = threading.Lock()
    running = 0
    most = 0
    order: list[int] = []
    done = threading.Event()

    def turn(number: int) -> Callable[[], None]:
        def run() -> None:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
                order.append(number)
            threading.Event().wait(0.01)
            with lock:
                running -= 1
            if number == 9:
                done.set()

        return run

    for number in range(10):
        threads.turn(turn(number))
    assert done.wait(WAIT)
    assert most == 2
    assert sorted(order) == list(range(10))
    assert order[:2] == [0, 1]


def test_a_failing_job_is_logged_and_the_thread_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    threads = TurnThreads(1)
    done = threading.Event()

    def broken() -> None:
        raise ValueError("a bug")

    threads.store(broken)
    threads.turn(done.set)
    assert done.wait(WAIT)
    assert "an inbox job failed" in caplog.text
    assert "ValueError: a bug" in caplog.text
