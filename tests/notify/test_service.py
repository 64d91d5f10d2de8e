"""Delivery inside `jobline run`: the dispatcher starts with the app and replies go out at once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from bot.channels.base import InboundMessage
from bot.runtime import build_runtime
from bot.settings import Settings
from db.setup import Database
from notify import service
from tests.fakes.provider import FakeProvider, HttpChannel


@pytest.fixture
def sms_channel(provider: FakeProvider) -> Iterator[None]:
    real = service.CHANNEL_FACTORIES["sms"]
    service.CHANNEL_FACTORIES["sms"] = lambda settings: HttpChannel(provider.url)
    yield
    service.CHANNEL_FACTORIES["sms"] = real


@pytest.mark.usefixtures("sms_channel")
def test_a_reply_leaves_through_the_running_app(
    settings: Settings, database: Database, provider: FakeProvider
) -> None:
    web = build_runtime(settings, database)
    jobline = web.state.runtime.jobline
    with TestClient(web):
        jobline.handle(InboundMessage("sms", "+8613800000077", "hello", "SM77"))
        deadline = time.monotonic() + 3
        while not provider.accepted and time.monotonic() < deadline:
            time.sleep(0.01)
    assert [item["to"] for item in provider.accepted] == ["+8613800000077"]
    assert provider.accepted[0]["text"].startswith("Hello, I am Jobline.")
