"""Fixtures for delivery tests: a fake provider on loopback and settings without rate limits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings, load_settings
from notify.dispatcher import Dispatcher
from tests.fakes.delivery import run_until_idle
from tests.fakes.people import DaytimeClock
from tests.fakes.provider import FakeProvider, HttpChannel


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Test settings: no rate limits, generous retries, small batches."""
    return load_settings(
        database_url=database_url,
        notify={
            "rate_limits": {"twilio": 0, "telegram": 0},
            "max_attempts": 12,
            "batch_size": 200,
        },
    )


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    """A fake SMS provider on 127.0.0.1."""
    fake = FakeProvider().start()
    yield fake
    fake.stop()


@pytest.fixture
def daytime() -> DaytimeClock:
    """Real time, set to 10:00 in Harbin."""
    return DaytimeClock()


def drain(
    sessions: sessionmaker[Session],
    settings: Settings,
    provider: FakeProvider,
    clock: Any,
    **options: Any,
) -> Dispatcher:
    """Run a dispatcher over the fake provider until nothing is left to send."""

    @asynccontextmanager
    async def sms() -> AsyncIterator[dict[str, Any]]:
        channel = HttpChannel(provider.url)
        try:
            yield {"sms": channel}
        finally:
            await channel.close()

    return run_until_idle(sessions, settings, clock, sms, **options)
