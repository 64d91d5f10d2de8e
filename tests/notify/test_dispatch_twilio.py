"""A broadcast through the real twilio client and the fake Twilio API: 429, 5xx and 21610."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import select

from bot.database import Database, open_database
from bot.runtime import sms_channel
from bot.settings import Settings
from db.models import Contact, Seeker
from notify.dispatcher import Dispatcher
from tests.fakes.people import DaytimeClock, add_seekers, phone
from tests.fakes.twilio_api import (
    FakeTwilio,
    twilio_error,
    twilio_settings,
)
from tests.notify.test_dispatcher import statuses
from tests.notify.test_reliability import broadcast_to_all


@pytest.fixture
def sms_settings(database_url: str, fake_twilio: FakeTwilio) -> Settings:
    notify = {"quiet_hours": "", "rate_limits": {"twilio": 0}}
    return twilio_settings(database_url, fake_twilio, notify=notify)


def test_a_broadcast_through_twilio_retries_and_stops_as_twilio_says(
    sms_settings: Settings, fake_twilio: FakeTwilio
) -> None:
    database: Database = open_database(sms_settings)
    add_seekers(database.sessions, 5)
    day = DaytimeClock()
    broadcast_to_all(database, sms_settings, day)
    fake_twilio.answer_next(
        twilio_error(429, 20429, retry_after=0),
        twilio_error(500, 20500),
        twilio_error(400, 21610),  # this recipient texted STOP to the number
    )

    async def go() -> None:
        channel = sms_channel(sms_settings)
        assert channel is not None
        dispatcher = Dispatcher(
            database.sessions,
            {"sms": channel},
            sms_settings,
            clock=day,
            concurrency=1,  # the planned answers meet the messages in order
            poll_seconds=0.02,
            backoff_seconds=0.01,
        )
        await asyncio.wait_for(dispatcher.run(until_idle=True), timeout=60)
        dispatcher.close()

    asyncio.run(go())
    got = Counter(form["To"] for form in fake_twilio.sent)
    assert statuses(database) == {"sent": 4, "failed": 1}
    # The first three tries failed: one number was stopped (that contact, not the seeker);
    # every other one got exactly one.
    with database.sessions() as session:
        stopped = list(session.scalars(select(Contact.address).where(Contact.stopped == "stop")))
        assert session.scalar(select(Seeker).where(Seeker.opted_out.is_(True))) is None
    assert len(stopped) == 1
    delivered = {address for address in got if address not in stopped}
    assert delivered == {phone(n) for n in range(5)} - set(stopped)
    assert len(fake_twilio.sent) == 4 + 3  # four sent once each, three failed tries
    database.engine.dispose()
