"""Delivery inside `jobline run`: the dispatcher starts with the app and replies go out at once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from bot import runtime as service
from bot.channels.base import InboundMessage
from bot.database import Database, open_database
from bot.runtime import build_runtime
from bot.settings import Settings, load_settings
from db.models import OutboxMessage
from tests.bot.channels.conftest import PHONE, Phone
from tests.fakes.provider import FakeProvider, HttpChannel
from tests.fakes.twilio_api import PUBLIC_URL, FakeTwilio, twilio_section


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
        deadline = time.monotonic() + 20
        while not provider.accepted and time.monotonic() < deadline:
            time.sleep(0.01)
    assert [item["to"] for item in provider.accepted] == ["+8613800000077"]
    assert provider.accepted[0]["text"].startswith("Hello, I am Jobline.")


def test_with_twilio_on_the_app_answers_an_sms_by_itself(
    database_url: str, fake_twilio: FakeTwilio
) -> None:
    settings = load_settings(
        database_url=database_url,
        load_demo_data=False,
        public_base_url=PUBLIC_URL,
        twilio=twilio_section(fake_twilio),
    )
    database = open_database(settings)
    web = build_runtime(settings, database)
    with TestClient(web, base_url="http://10.0.0.7:8000") as client:
        phone = Phone(client)
        assert phone.texts("hello")[0] == 200
        deadline = time.monotonic() + 20
        while not fake_twilio.sent and time.monotonic() < deadline:
            time.sleep(0.01)
        [request] = fake_twilio.sent
        assert request["To"] == PHONE and request["Body"].startswith("Hello, I am Jobline.")
        provider_id = None
        while provider_id is None and time.monotonic() < deadline:
            # A new session each time: one read transaction would keep seeing the old row.
            with database.sessions() as session:
                provider_id = session.scalars(select(OutboxMessage.provider_id)).one()
            time.sleep(0.01)
        assert phone.status(provider_id or "", "delivered")[0] == 204
    with database.sessions() as session:
        assert session.scalars(select(OutboxMessage.status)).one() == "delivered"
    database.engine.dispose()
