"""kill -9 of `jobline worker` mid-broadcast through Twilio: every recipient gets it once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.database import Database, open_database
from bot.settings import Settings
from db.models import Broadcast, OutboxMessage
from notify.service import READY
from tests.fakes.people import add_seekers, phone
from tests.fakes.postgres import fresh_postgres_url
from tests.fakes.twilio_api import FakeTwilio, twilio_settings
from tests.notify.test_reliability import broadcast_to_all

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 300


@pytest.fixture
def slow_twilio(fake_twilio: FakeTwilio) -> FakeTwilio:
    """The fake Twilio, slow enough per send that the kill lands mid-broadcast."""
    fake_twilio.delay = 0.15
    return fake_twilio


@pytest.fixture
def postgres(postgres_server: str, slow_twilio: FakeTwilio) -> Iterator[tuple[Settings, Database]]:
    for url in fresh_postgres_url(postgres_server):
        notify = {"quiet_hours": "", "rate_limits": {"twilio": 0}, "lease_seconds": 2}
        settings = twilio_settings(url, slow_twilio, notify=notify)
        database = open_database(settings)
        yield settings, database
        database.engine.dispose()


def jobline_worker(settings: Settings) -> subprocess.Popen[str]:
    """`jobline worker` on the test database, sending through the fake Twilio."""
    twilio = settings.twilio
    env = {
        **os.environ,
        "JOBLINE_DATABASE_URL": settings.database_url,
        "JOBLINE_LOAD_DEMO_DATA": "false",
        "JOBLINE_PUBLIC_BASE_URL": settings.public_base_url,
        "JOBLINE_TWILIO__ACCOUNT_SID": twilio.account_sid,
        "JOBLINE_TWILIO__AUTH_TOKEN": twilio.auth_token,
        "JOBLINE_TWILIO__FROM_NUMBER": twilio.from_number,
        "JOBLINE_TWILIO__API_BASE_URL": twilio.api_base_url,
        "JOBLINE_NOTIFY__QUIET_HOURS": "",
        "JOBLINE_NOTIFY__RATE_LIMITS__TWILIO": "0",
        "JOBLINE_NOTIFY__LEASE_SECONDS": "2",
        "JOBLINE_NLU__MANAGED": "false",
        "PYTHONFAULTHANDLER": "1",  # SIGABRT prints every thread's stack (see `stop`)
    }
    command = [sys.executable, "-m", "bot.cli", "worker"]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def stop(worker: subprocess.Popen[str]) -> None:
    """Ctrl-C the worker; if it has not ended in 30 s, fail with where its threads wait."""
    worker.send_signal(signal.SIGINT)
    try:
        worker.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        worker.send_signal(signal.SIGABRT)
        _, stderr = worker.communicate(timeout=30)
        raise AssertionError(f"jobline worker did not stop on SIGINT:\n{stderr[-8000:]}") from None


def statuses(database: Database) -> dict[str, int]:
    with database.sessions() as session:
        rows = session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return {status: int(n) for status, n in rows}


def wait_for(check: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_kill_9_of_a_worker_mid_broadcast_reaches_everyone_once(
    postgres: tuple[Settings, Database], fake_twilio: FakeTwilio
) -> None:
    settings, database = postgres
    add_seekers(database.sessions, RECIPIENTS)
    broadcast_id = broadcast_to_all(database, settings)
    first = jobline_worker(settings)
    wait_for(lambda: len(fake_twilio.sent) >= 60 or first.poll() is not None, 60)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    settled(fake_twilio)
    assert 60 <= len(fake_twilio.sent) < RECIPIENTS
    assert statuses(database).get("sending", 0) > 0  # the crash left claimed rows
    assert broadcast_status(database, broadcast_id) == "sending"
    second = jobline_worker(settings)
    try:
        wait_for(lambda: broadcast_status(database, broadcast_id) == "done", 90)
    finally:
        stop(second)
    assert statuses(database) == {"sent": RECIPIENTS}
    # What Twilio took (a request cut short by the kill carries no To and was never a message).
    received = Counter(message["to"] for message in fake_twilio.messages)
    assert set(received) == {phone(n) for n in range(RECIPIENTS)}
    assert set(received.values()) == {1}


def settled(fake: FakeTwilio) -> None:
    """Wait until the fake has read every request the dead worker wrote (a busy machine lags)."""
    seen = -1
    while seen != len(fake.sent):
        seen = len(fake.sent)
        time.sleep(0.5)


def broadcast_status(database: Database, broadcast_id: int) -> str:
    with database.sessions() as session:
        broadcast = session.get(Broadcast, broadcast_id)
        assert broadcast is not None
        return broadcast.status


def test_a_worker_holds_at_most_one_claim_of_about_a_second(
    postgres: tuple[Settings, Database], fake_twilio: FakeTwilio
) -> None:
    """What a crash can strand: one claim of about a second, and the last sends of the one
    before (the next claim is taken while they are out), never two whole claims."""
    import asyncio
    import threading

    from bot.runtime import sms_channel
    from notify.dispatcher import Dispatcher

    settings, database = postgres
    add_seekers(database.sessions, 200)
    broadcast_to_all(database, settings)
    fake_twilio.delay = 0.05
    channel = sms_channel(settings)
    assert channel is not None
    dispatcher = Dispatcher(
        database.sessions, {"sms": channel}, settings, concurrency=2, poll_seconds=0.02
    )
    assert dispatcher.claim_size("sms") == 8
    most = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal most
        while not done.is_set():
            most = max(most, statuses(database).get("sending", 0))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        asyncio.run(asyncio.wait_for(dispatcher.run(until_idle=True), timeout=60))
    finally:
        done.set()
        watcher.join()
        dispatcher.close()
    assert statuses(database) == {"sent": 200}
    # Two senders at 50 ms a send go at most 40 a second: one claim, plus 2 still out.
    assert 0 < most <= 40 + 2


def test_unknown_messages_are_listed_and_sent_again_when_a_person_says(
    postgres: tuple[Settings, Database],
) -> None:
    from sqlalchemy import update

    settings, database = postgres
    add_seekers(database.sessions, 4)
    first = broadcast_to_all(database, settings)
    second = broadcast_to_all(database, settings, text="Office closed Friday")
    with database.sessions() as session, session.begin():
        session.execute(update(OutboxMessage).values(status="unknown", last_error="stopped"))
    env = {**os.environ, "JOBLINE_DATABASE_URL": settings.database_url}
    cli = [sys.executable, "-m", "bot.cli", "outbox"]

    def run(*args: str) -> str:
        done = subprocess.run(
            [*cli, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    listed = run("unknown")
    assert listed.splitlines()[-1] == "8 unknown"
    assert f"broadcast {first}" in listed and "+86139****0000" in listed
    assert phone(0) not in listed
    assert run("requeue", "--broadcast", str(first)).strip() == "4 queued again"
    assert statuses(database) == {"queued": 4, "unknown": 4}
    assert broadcast_status(database, first) in ("sending", "done")
    assert run("requeue", "--all").strip() == "4 queued again"
    assert statuses(database) == {"queued": 8}
    refused = subprocess.run([*cli, "requeue"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode == 2 and "--broadcast ID or --all" in refused.stderr
    assert second


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_worker_told_to_stop_ends_cleanly(
    postgres: tuple[Settings, Database], signum: signal.Signals
) -> None:
    settings, _ = postgres
    worker = jobline_worker(settings)
    lines: list[str] = []
    stream = worker.stderr
    assert stream is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(stream.readline, "")))
    reader.start()  # a busy machine can take seconds to import and migrate: wait for READY
    wait_for(lambda: any(READY in line for line in lines) or worker.poll() is not None, 60)
    assert worker.poll() is None, "".join(lines)
    worker.send_signal(signum)
    worker.wait(timeout=30)
    reader.join(timeout=10)
    stderr = "".join(lines)
    assert worker.returncode == 0, stderr
    assert "Traceback" not in stderr
