"""Fixtures for Telegram tests (loaded with pytest_plugins): the fake Bot API, the app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from bot.database import Database
from bot.runtime import build_runtime
from bot.settings import Settings
from tests.bot.telegram_chat import Telegram
from tests.fakes.telegram_api import FakeBotApi, fake_bot_api


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    """The fake Bot API, running."""
    with fake_bot_api() as running:
        yield running


@pytest.fixture
def web(settings: Settings, database: Database) -> Iterator[TestClient]:
    """The whole web app as `jobline run` builds it, started (its services run)."""
    with TestClient(build_runtime(settings, database)) as running:
        yield running


@pytest.fixture
def telegram(web: TestClient, database: Database) -> Telegram:
    """Telegram, posting to the webhook."""
    return Telegram(web, database)
