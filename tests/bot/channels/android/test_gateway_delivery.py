"""Sending through the office phones: routes by country, two phones, a phone offline, crashes."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from bot.channels.android_sms import OfficePhones, message_id
from bot.channels.base import OutgoingMessage
from bot.channels.sms_routes import SmsRoutes, sms_channel
from bot.channels.twilio_sms import TwilioChannel
from bot.conversation import find_or_create_contact
from bot.database import Database
from bot.settings import Settings
from db.models import OutboxMessage
from db.session import transaction
from notify import outbox
from notify.dispatcher import Dispatcher
from tests.bot.channels.android.conftest import PHONES, SEEKER, deliver, with_phones
from tests.bot.channels.android.conftest import outbox_rows as rows
from tests.fakes.android_gateway import FakeGateway
from tests.fakes.people import DaytimeClock, add_seekers, phone
from tests.fakes.twilio_api import FakeTwilio
from tests.notify.test_reliability import broadcast_to_all


def queue_reply(
    database: Database, settings: Settings, number: str, now: datetime, device: str | None = None
) -> int:
    """One reply queued to an SMS number (its contact made if new); returns the outbox id."""
    with transaction(database.sessions) as session:
        contact = find_or_create_contact(session, "sms", number, settings, now)
        contact.device = device
        row = outbox.queue(
            session, contact=contact, text="Hello", idempotency_key=f"t-{number}", now=now
        )
        session.flush()
        return row.id


def test_each_number_goes_to_its_countrys_provider(
    database: Database,
    settings: Settings,
    gateway: FakeGateway,
    fake_twilio: FakeTwilio,
) -> None:
    now = DaytimeClock()
    queue_reply(database, settings, SEEKER, now())
    queue_reply(database, settings, "+14155550123", now())
    deliver(database, settings, now)
    assert [text.to for text in gateway.texts] == [SEEKER]
    assert [request.form["To"] for request in fake_twilio.requests] == ["+14155550123"]
    assert {row.status for row in rows(database)} == {"sent"}


def test_without_a_gateway_nothing_changes(settings: Settings) -> None:
    off = Settings.model_validate({**settings.model_dump(), "sms": {}})
    assert isinstance(sms_channel(off), TwilioChannel)
    assert isinstance(sms_channel(settings), SmsRoutes)


def test_two_phones_share_a_broadcast_each_at_its_own_rate(
    database: Database, settings: Settings, fake_twilio: FakeTwilio, gateway: FakeGateway
) -> None:
    settings = with_phones(settings, gateway.url, per_phone_per_minute=600)
    add_seekers(database.sessions, 40)
    clock = DaytimeClock()
    broadcast_to_all(database, settings, clock)
    deliver(database, settings, clock)
    assert Counter(text.to for text in gateway.texts) == Counter({phone(n): 1 for n in range(40)})
    by_phone = gateway.per_device()
    assert sorted(by_phone) == list(PHONES)
    assert [len(texts) for texts in by_phone.values()] == [20, 20]
    for texts in by_phone.values():
        # 600 a minute: sends start 0.1 s apart on each phone (arrivals jitter by a connect).
        assert texts[-1].at - texts[0].at > 19 * 0.1 * 0.95
        for k in range(5, len(texts)):
            assert texts[k].at - texts[k - 5].at > 4 * 0.1
    assert not fake_twilio.requests


def test_a_phone_offline_holds_its_texts_then_sends_each_once(
    database: Database, settings: Settings, fake_twilio: FakeTwilio
) -> None:
    first, second = FakeGateway(("a",)).start(), FakeGateway(("b",)).start()
    try:
        phones = [{"id": "a", "url": first.url}, {"id": "b", "url": second.url}]
        settings = with_phones(settings, first.url, phones=phones, offline_retry_seconds=3)
        clock = DaytimeClock()
        second.offline()
        pinned = queue_reply(database, settings, SEEKER, clock(), device="b")  # wrote to b
        add_seekers(database.sessions, 10)
        broadcast_to_all(database, settings, clock)
        channel = sms_channel(settings)
        assert channel is not None
        dispatcher = Dispatcher(
            database.sessions,
            {"sms": channel},
            settings,
            clock=clock,
            poll_seconds=0.05,
            backoff_seconds=0.05,
        )

        async def run_while_b_is_off() -> None:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(dispatcher.run(until_idle=True), 2.0)

        asyncio.run(run_while_b_is_off())
        dispatcher.close()
        # The broadcast went out through a; the reply to the seeker who wrote to b waits for b.
        assert sorted(text.to for text in first.texts) == [phone(n) for n in range(10)]
        [waiting] = [row for row in rows(database) if row.id == pinned]
        assert waiting.status == "queued" and waiting.attempts == 0
        assert "android b" in (waiting.last_error or "")
        second.online()
        deliver(database, settings, clock)
        assert [text.to for text in second.texts] == [SEEKER]
        assert len(first.texts) == 10
        assert {row.status for row in rows(database)} == {"sent"}
    finally:
        first.stop()
        second.stop()


def test_a_row_in_flight_after_a_crash_is_found_or_queued_again_never_unknown(
    database: Database, settings: Settings, gateway: FakeGateway
) -> None:
    clock = DaytimeClock()
    arrived = queue_reply(database, settings, SEEKER, clock())
    lost = queue_reply(database, settings, phone(1), clock())
    # The crashed dispatcher had handed `arrived` to a phone, not `lost`.
    gateway.accept(
        {"id": message_id(arrived), "phoneNumbers": [SEEKER], "textMessage": {"text": "Hello"}}
    )
    with transaction(database.sessions) as session:
        session.execute(
            update(OutboxMessage).values(
                status="sending", attempts=1, not_before=clock() - timedelta(minutes=5)
            )
        )
    channel = sms_channel(settings)
    assert channel is not None
    dispatcher = Dispatcher(database.sessions, {"sms": channel}, settings, clock=clock)
    try:
        assert asyncio.run(dispatcher.reconcile(everything=True)) == 2
    finally:
        dispatcher.close()
    found, queued = rows(database)
    assert (found.status, found.provider_id) == ("sent", message_id(arrived))
    assert (queued.id, queued.status) == (lost, "queued")
    deliver(database, settings, clock)
    assert Counter(text.to for text in gateway.texts) == {SEEKER: 1, phone(1): 1}


def test_a_row_in_flight_while_the_phone_is_off_is_asked_about_again_later(
    database: Database, settings: Settings, gateway: FakeGateway
) -> None:
    clock = DaytimeClock()
    queue_reply(database, settings, SEEKER, clock())
    with transaction(database.sessions) as session:
        session.execute(update(OutboxMessage).values(status="sending", attempts=1))
    gateway.offline()
    channel = sms_channel(settings)
    assert channel is not None
    dispatcher = Dispatcher(database.sessions, {"sms": channel}, settings, clock=clock)
    try:
        asyncio.run(dispatcher.reconcile(everything=True))
        assert rows(database)[0].status == "sending"  # not "unknown": asked again next time
        gateway.online()
        asyncio.run(dispatcher.reconcile(everything=True))
    finally:
        dispatcher.close()
    assert rows(database)[0].status == "queued"


def test_a_resend_of_a_text_the_phone_has_is_not_sent_twice(
    settings: Settings, gateway: FakeGateway
) -> None:
    phones = OfficePhones(settings.sms.android)
    message = OutgoingMessage(7, SEEKER, "Hello", device="phone-a")
    assert phones.send_now(message).provider_id == "jobline-7"
    assert phones.send_now(message).provider_id == "jobline-7"
    assert len(gateway.texts) == 1 and gateway.refused == 1


def test_quiet_hours_hold_a_broadcast_to_the_phones_but_not_a_reply(
    database: Database, settings: Settings, fake_twilio: FakeTwilio, gateway: FakeGateway
) -> None:
    settings = settings.model_copy(
        update={"notify": settings.notify.model_copy(update={"quiet_hours": "21:00-08:00"})}
    )
    night = DaytimeClock(hour=22)
    add_seekers(database.sessions, 3)
    broadcast_to_all(database, settings, night)
    reply = queue_reply(database, settings, SEEKER, night(), device="phone-b")
    channel = sms_channel(settings)
    assert channel is not None
    dispatcher = Dispatcher(database.sessions, {"sms": channel}, settings, clock=night)
    try:
        claimed = dispatcher.claim()
    finally:
        dispatcher.close()
    assert [(row.id, row.device) for row in claimed] == [(reply, "phone-b")]
