"""Shared fixtures: a real database (SQLite and PostgreSQL) and a seeker who texts Jobline."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.channels.base import InboundMessage
from bot.channels.console import ConsoleChannel
from bot.conversation import Jobline
from bot.database import Database, open_database
from bot.settings import Settings, load_settings
from tests.fakes.postgres import POSTGRES_SERVER, fresh_postgres_url, postgres_available
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.timetravel import start_from_environment


def pytest_configure(config: pytest.Config) -> None:
    """JOBLINE_TEST_HOUR=H moves the clock of this run, and of its child processes, to H:00."""
    start_from_environment()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under xdist (--dist loadgroup), the tests of the one real Rasa server share a worker."""
    for item in items:
        if "rasa_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("rasa"))


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL URL, or skip (fail under REQUIRE_POSTGRES=1)."""
    if not postgres_available():
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is required (REQUIRE_POSTGRES=1) but not reachable")
        pytest.skip("PostgreSQL not reachable")
    return POSTGRES_SERVER


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """Twilio's REST API on a local port."""
    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test that uses this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jobline.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    yield from fresh_postgres_url(server)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for a test: its own database, demo data on."""
    return load_settings(database_url=database_url)


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    """A migrated database with reference rows and demo data."""
    database = open_database(settings)
    yield database
    database.engine.dispose()


class Clock:
    """A clock tests can move."""

    def __init__(self) -> None:
        # A Wednesday, 10:00 in Harbin.
        self.now = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward."""
        self.now += timedelta(**delta)


class Seeker:
    """A seeker texting Jobline through the console channel; `send` returns the replies."""

    def __init__(self, jobline: Jobline, phone: str = "+8613800000001") -> None:
        self.jobline = jobline
        self.phone = phone
        self.console = ConsoleChannel(jobline.sessions, jobline.clock)
        self.contact_id: int | None = None

    def send(self, message: str, kind: str = "text") -> list[str]:
        """Text Jobline; get back what it answered."""
        received = self.jobline.handle(InboundMessage("console", self.phone, message, kind=kind))
        self.contact_id = received.contact_id
        return [row.text for row in self.console.deliver(received.contact_id)]

    def says(self, message: str, kind: str = "text") -> str:
        """Text Jobline; get back the whole answer as one string."""
        return "\n".join(self.send(message, kind))


@pytest.fixture
def clock() -> Clock:
    """A test clock set to a working-day morning in Harbin."""
    return Clock()


@pytest.fixture
def jobline(settings: Settings, database: Database, clock: Clock) -> Jobline:
    """The conversation service on the test database."""
    return Jobline(settings, database.sessions, clock=clock)


@pytest.fixture
def seeker(jobline: Jobline) -> Seeker:
    """A seeker with a phone, texting Jobline."""
    return Seeker(jobline)
