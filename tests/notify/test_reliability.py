"""Delivery survives kill -9, flaky providers, several workers and a STOP mid-broadcast."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.channels.base import InboundMessage
from bot.conversation import Jobline
from bot.database import Database, open_database
from bot.settings import Settings, load_settings
from db.models import OutboxMessage, utcnow
from db.session import transaction
from notify import broadcasts
from tests.fakes.people import DaytimeClock, add_seekers, phone
from tests.fakes.postgres import fresh_postgres_url
from tests.fakes.provider import FakeProvider
from tests.notify.conftest import drain

ROOT = Path(__file__).resolve().parents[2]


def broadcast_to_all(
    database: Database,
    settings: Settings,
    clock: Callable[[], datetime] = utcnow,
    text: str = "Fair on Monday",
) -> int:
    """Queue a free-text broadcast to everyone opted in, at the clock's now; return its id."""
    with transaction(database.sessions) as session:
        broadcast = broadcasts.create(
            session, segment=broadcasts.parse_segment("all"), text=text, now=clock()
        )
        broadcast_id = broadcast.id
    broadcasts.queue(database.sessions, broadcast_id, settings)
    return broadcast_id


def count(database: Database, status: str) -> int:
    with database.sessions() as session:
        query = select(func.count()).where(OutboxMessage.status == status)
        return int(session.scalar(query.select_from(OutboxMessage)) or 0)


def worker(provider: FakeProvider, database_url: str, *flags: str) -> subprocess.Popen[str]:
    """A `python -m tests.fakes.worker` process on this database, no quiet hours."""
    env = {
        **os.environ,
        "JOBLINE_DATABASE_URL": database_url,
        "JOBLINE_NOTIFY__QUIET_HOURS": "",
        "JOBLINE_NOTIFY__RATE_LIMITS__TWILIO": "0",
        "JOBLINE_NOTIFY__BATCH_SIZE": "200",
    }
    command = [sys.executable, "-m", "tests.fakes.worker", provider.url, *flags]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)


@pytest.fixture
def quiet_free(database_url: str) -> Settings:
    """Settings with no quiet hours, so a broadcast goes out whatever the real time."""
    return load_settings(
        database_url=database_url,
        notify={"quiet_hours": "", "rate_limits": {"twilio": 0}, "max_attempts": 12},
    )


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[tuple[Settings, Database]]:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'crash.db'}",
        load_demo_data=False,
        notify={"quiet_hours": "", "batch_size": 1000},
    )
    database = open_database(settings)
    yield settings, database
    database.engine.dispose()


def test_kill_9_mid_broadcast_then_restart_sends_each_message_once(
    sqlite_database: tuple[Settings, Database], provider: FakeProvider
) -> None:
    settings, database = sqlite_database
    add_seekers(database.sessions, 10_000)
    broadcast_id = broadcast_to_all(database, settings)
    # A worker holds one claim at a time (64 rows here): kill it while one is on the wire.
    provider.delay = 0.002
    first = worker(provider, settings.database_url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (
        len(provider.accepted) < 2_000 or count(database, "sending") == 0
    ):
        time.sleep(0.002)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert 2_000 <= len(provider.accepted) < 10_000
    in_flight = count(database, "sending")
    assert in_flight > 0  # the crash left claimed rows whose fate is unknown
    second = worker(provider, settings.database_url, "--until-idle")
    assert second.wait(timeout=120) == 0
    received = provider.per_address()
    assert len(received) == 10_000
    assert set(received.values()) == {1}
    with database.sessions() as session:
        assert broadcasts.report(session, broadcast_id)["counts"]["sent"] == 10_000


def test_a_flaky_provider_still_delivers_everything_once(
    quiet_free: Settings, provider: FakeProvider
) -> None:
    database = open_database(quiet_free)
    add_seekers(database.sessions, 600)
    provider.fail_share = 0.2
    day = DaytimeClock()
    broadcast_to_all(database, quiet_free, day)
    drain(database.sessions, quiet_free, provider, day)
    assert provider.failures > 60
    received = provider.per_address()
    assert len(received) == 600 and set(received.values()) == {1}
    assert count(database, "sent") == 600
    database.engine.dispose()


def test_three_workers_on_postgresql_share_one_broadcast(
    postgres_server: str, provider: FakeProvider
) -> None:
    for url in fresh_postgres_url(postgres_server):
        settings = load_settings(database_url=url, load_demo_data=False, notify={"quiet_hours": ""})
        database = open_database(settings)
        add_seekers(database.sessions, 3_000)
        broadcast_to_all(database, settings)
        provider.delay = 0.01
        workers = [worker(provider, url, "--until-idle") for _ in range(3)]
        outputs = [process.communicate(timeout=120)[0] for process in workers]
        assert [process.returncode for process in workers] == [0, 0, 0]
        shares = [int(output.split()[-1]) for output in outputs]
        assert sum(shares) == 3_000
        assert all(share > 0 for share in shares), shares
        received = provider.per_address()
        assert len(received) == 3_000 and set(received.values()) == {1}
        assert count(database, "sent") == 3_000
        database.engine.dispose()


def test_stop_while_a_broadcast_is_queued_means_nothing_more(
    quiet_free: Settings, provider: FakeProvider
) -> None:
    database = open_database(quiet_free)
    add_seekers(database.sessions, 3)
    day = DaytimeClock()
    broadcast_id = broadcast_to_all(database, quiet_free, day)
    jobline = Jobline(quiet_free, database.sessions, clock=day)
    jobline.handle(InboundMessage("sms", phone(1), "STOP", "SM-stop"))
    drain(database.sessions, quiet_free, provider, day)
    texts = [item["text"] for item in provider.accepted if item["to"] == phone(1)]
    assert texts == ["You will get no more texts from Jobline. Reply START to come back."]
    assert provider.per_address()[phone(2)] == 1
    with database.sessions() as session:
        counts = broadcasts.report(session, broadcast_id)["counts"]
    assert counts["sent"] == 2 and counts["cancelled"] == 1
    database.engine.dispose()
