"""A turn's replies go out as soon as it commits, through the real Twilio channel and fake API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select

from bot.channels.base import InboundMessage
from bot.channels.twilio_sms import TwilioChannel
from bot.conversation import Jobline
from bot.database import Database
from bot.settings import Settings
from db.models import OutboxMessage
from notify.dispatcher import Dispatcher
from notify.express import Express
from tests.bot.channels.conftest import PHONE
from tests.conftest import Clock
from tests.fakes.twilio_api import FakeTwilio, twilio_error, twilio_settings

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def settings(database_url: str, fake_twilio: FakeTwilio) -> Settings:
    """The Twilio channel on, no quiet hours, no rate limit."""
    notify = {"quiet_hours": "", "rate_limits": {"twilio": 0}}
    return twilio_settings(database_url, fake_twilio, notify=notify)


def rows(database: Database) -> list[tuple[str, int, str | None]]:
    """Each outbox row's status, attempts and provider id."""
    with database.sessions() as session:
        query = select(OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.provider_id)
        return [
            (r.status, r.attempts, r.provider_id)
            for r in session.execute(query.order_by(OutboxMessage.id))
        ]


async def until(check: Callable[[], bool], seconds: float = 15.0) -> None:
    """Wait (without blocking the loop) until check() holds."""
    deadline = time.monotonic() + seconds
    while not await asyncio.to_thread(check):
        assert time.monotonic() < deadline, "waited too long"
        await asyncio.sleep(0.02)


def delivering(
    settings: Settings, database: Database, jobline: Jobline, work: Callable[[], Awaitable[None]]
) -> Dispatcher:
    """Run `work` while delivery runs, polling once a minute and never woken by a turn."""
    dispatcher = Dispatcher(
        database.sessions,
        {"sms": TwilioChannel(settings)},
        settings,
        clock=jobline.clock,
        poll_seconds=60,
        backoff_seconds=0.01,
    )
    jobline.express = Express(dispatcher)

    async def go() -> None:
        stop = asyncio.Event()
        running = asyncio.ensure_future(dispatcher.run(stop))
        await until(lambda: dispatcher.running_loop() is not None)
        try:
            await work()
        finally:
            stop.set()
            await running
            dispatcher.close()

    asyncio.run(go())
    return dispatcher


def test_a_reply_goes_out_as_its_turn_commits_and_is_recorded_once(
    settings: Settings, database: Database, jobline: Jobline, fake_twilio: FakeTwilio
) -> None:
    assert Express(Dispatcher(database.sessions, {}, settings)).takes("sms") is False

    async def work() -> None:
        assert jobline.express is not None and jobline.express.takes("sms")
        text = InboundMessage("sms", PHONE, "hello", external_id="SM" + "e" * 32)
        await asyncio.to_thread(jobline.handle, text)
        # The dispatcher polls once a minute and nothing wakes it: only the turn sent this.
        await until(lambda: [r[0] for r in rows(database)] == ["sent"])

    delivering(settings, database, jobline, work)
    [request] = fake_twilio.sent
    assert request["To"] == PHONE and request["Body"].startswith("Hello, I am Jobline")
    [sid] = [message["sid"] for message in fake_twilio.messages]
    assert rows(database) == [("sent", 1, sid)]


def test_a_reply_twilio_refuses_for_now_is_retried_by_the_dispatcher(
    settings: Settings,
    database: Database,
    jobline: Jobline,
    fake_twilio: FakeTwilio,
    clock: Clock,
) -> None:
    fake_twilio.answer_next(twilio_error(500, 20500))

    async def work() -> None:
        text = InboundMessage("sms", PHONE, "hello", external_id="SM" + "f" * 32)
        await asyncio.to_thread(jobline.handle, text)
        await until(lambda: [r[0] for r in rows(database)] == ["queued"])
        clock.advance(minutes=5)  # past its backoff: the dispatcher sends it when it looks
        assert jobline.express is not None
        jobline.express.dispatcher.wake()
        await until(lambda: [r[0] for r in rows(database)] == ["sent"])

    delivering(settings, database, jobline, work)
    assert len(fake_twilio.sent) == 2
    [sid] = [message["sid"] for message in fake_twilio.messages]
    assert rows(database) == [("sent", 2, sid)]


def test_a_reply_on_a_rate_limited_channel_that_is_far_behind_waits_for_the_dispatcher(
    settings: Settings, database: Database, jobline: Jobline
) -> None:
    async def work() -> None:
        express = jobline.express
        assert express is not None
        limiter = express.dispatcher.limiters["sms"]
        limiter.interval, limiter.next_at = 1.0, time.monotonic() + 3600
        assert not express.takes("sms")
        text = InboundMessage("sms", PHONE, "hello", external_id="SM" + "d" * 32)
        await asyncio.to_thread(jobline.handle, text)
        assert rows(database) == [("queued", 0, None)]

    delivering(settings, database, jobline, work)
