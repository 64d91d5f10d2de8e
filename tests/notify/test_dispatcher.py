"""The dispatcher over a real socket: priorities, opt-outs, quiet hours, errors, reconciling."""

from __future__ import annotations

import asyncio
import threading
import time

from sqlalchemy import select, text

from bot.channels.base import InboundMessage
from bot.conversation import Jobline
from bot.database import Database
from bot.settings import Settings, load_settings
from db.models import Contact, ContactStop, OutboxMessage, Seeker
from db.session import transaction
from notify import outbox
from notify.channel import OutgoingMessage, SendResult
from notify.dispatcher import Dispatcher
from tests.fakes.people import DaytimeClock, add_seekers, phone
from tests.fakes.provider import FakeProvider, HttpChannel
from tests.notify.conftest import drain


def queue_to_all(database: Database, kind: str, clock: DaytimeClock, tag: str = "x") -> None:
    """One message of this kind to every SMS contact."""
    with transaction(database.sessions) as session:
        for contact in session.scalars(select(Contact).where(Contact.channel == "sms")):
            outbox.queue(
                session,
                contact=contact,
                text=f"{kind} {tag}",
                idempotency_key=f"{kind}:{tag}:{contact.id}",
                kind=kind,
                now=clock(),
            )


def statuses(database: Database) -> dict[str, int]:
    with database.sessions() as session:
        found: dict[str, int] = {}
        for row in session.scalars(select(OutboxMessage)):
            found[row.status] = found.get(row.status, 0) + 1
        return found


def test_replies_are_claimed_before_broadcasts(
    database: Database, settings: Settings, daytime: DaytimeClock, provider: FakeProvider
) -> None:
    add_seekers(database.sessions, 30)
    queue_to_all(database, "broadcast", daytime)
    queue_to_all(database, "reply", daytime)
    slow = load_settings(database_url=settings.database_url, notify={"rate_limits": {"twilio": 5}})
    channels = {"sms": HttpChannel(provider.url)}
    dispatcher = Dispatcher(database.sessions, channels, slow, clock=daytime)
    claimed = dispatcher.claim()
    assert [row.kind for row in claimed] == ["reply"] * 5
    dispatcher.close()


def test_everything_is_sent_once_and_recorded(
    database: Database, settings: Settings, daytime: DaytimeClock, provider: FakeProvider
) -> None:
    add_seekers(database.sessions, 120)
    queue_to_all(database, "broadcast", daytime)
    dispatcher = drain(database.sessions, settings, provider, daytime)
    assert dispatcher.sent == 120
    assert set(provider.per_address().values()) == {1}
    assert statuses(database) == {"sent": 120}
    with database.sessions() as session:
        row = session.scalars(select(OutboxMessage)).first()
        assert row is not None and row.provider_id and row.provider_id.startswith("FAKE")
        assert row.attempts == 1 and row.sent_at is not None


def test_opted_out_seekers_get_no_broadcast_but_do_get_replies(
    database: Database, settings: Settings, daytime: DaytimeClock, provider: FakeProvider
) -> None:
    add_seekers(database.sessions, 4)
    queue_to_all(database, "broadcast", daytime)
    queue_to_all(database, "reply", daytime)
    with transaction(database.sessions) as session:
        seeker = session.scalar(select(Seeker).where(Seeker.phone == phone(1)))
        assert seeker is not None
        seeker.opted_out = True
    drain(database.sessions, settings, provider, daytime)
    assert provider.per_address()[phone(1)] == 1  # the reply only
    assert provider.per_address()[phone(2)] == 2
    assert statuses(database) == {"sent": 7, "skipped_opted_out": 1}


def test_quiet_hours_hold_broadcasts_not_replies(
    database: Database, settings: Settings, provider: FakeProvider
) -> None:
    night = DaytimeClock(hour=22)
    add_seekers(database.sessions, 3)
    queue_to_all(database, "broadcast", night)
    queue_to_all(database, "reply", night)
    channels = {"sms": HttpChannel(provider.url)}
    dispatcher = Dispatcher(database.sessions, channels, settings, clock=night)
    claimed = dispatcher.claim()
    dispatcher.close()
    assert {row.kind for row in claimed} == {"reply"}
    assert len(claimed) == 3


def test_a_blocked_number_stops_that_contact_only_and_errors_are_classified(
    database: Database, settings: Settings, daytime: DaytimeClock, provider: FakeProvider
) -> None:
    add_seekers(database.sessions, 3)
    provider.blocked.add(phone(0))
    queue_to_all(database, "broadcast", daytime)
    drain(database.sessions, settings, provider, daytime)
    with database.sessions() as session:
        blocked = session.scalar(select(Contact).where(Contact.address == phone(0)))
        assert blocked is not None and blocked.stopped == ContactStop.BLOCKED
        assert not blocked.seeker.opted_out  # the seeker's other channels still get messages
        failed = session.scalar(select(OutboxMessage).where(OutboxMessage.address == phone(0)))
        assert failed is not None and failed.status == "failed"
        assert failed.last_error == "recipient blocked us"
    assert phone(0) not in provider.per_address()


def test_retries_give_up_after_max_attempts(
    database: Database, daytime: DaytimeClock, provider: FakeProvider, settings: Settings
) -> None:
    add_seekers(database.sessions, 2)
    provider.fail_share = 1.0
    few = load_settings(
        database_url=settings.database_url,
        notify={"max_attempts": 3, "rate_limits": {"twilio": 0}},
    )
    queue_to_all(database, "broadcast", daytime)
    drain(database.sessions, few, provider, daytime)
    with database.sessions() as session:
        rows = list(session.scalars(select(OutboxMessage)))
    assert [(row.status, row.attempts) for row in rows] == [("failed", 3), ("failed", 3)]
    assert provider.accepted == []


def test_the_rate_limit_spaces_sends(
    database: Database, settings: Settings, daytime: DaytimeClock, provider: FakeProvider
) -> None:
    add_seekers(database.sessions, 6)
    queue_to_all(database, "broadcast", daytime)
    limited = load_settings(
        database_url=settings.database_url, notify={"rate_limits": {"twilio": 10}}
    )
    started = time.monotonic()
    drain(database.sessions, limited, provider, daytime)
    assert time.monotonic() - started >= 0.5  # 6 messages at 10 a second
    assert len(provider.accepted) == 6


def test_orphans_are_reconciled_not_blindly_resent(
    database: Database, settings: Settings, daytime: DaytimeClock, provider: FakeProvider
) -> None:
    add_seekers(database.sessions, 2)
    queue_to_all(database, "broadcast", daytime)
    with transaction(database.sessions) as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        for row in rows:
            row.status, row.attempts = "sending", 1
        delivered = rows[0].id
    # The provider got the first before the dispatcher died; the second never left.
    provider.accept({"ref": f"outbox-{delivered}", "to": phone(0), "text": "broadcast x"})
    drain(database.sessions, settings, provider, daytime)
    assert provider.per_address() == {phone(0): 1, phone(1): 1}
    with database.sessions() as session:
        first = session.get(OutboxMessage, delivered)
        assert first is not None and first.status == "sent" and first.provider_id == "FAKE1"


def test_a_reply_wakes_the_dispatcher_at_once(
    database: Database, settings: Settings, daytime: DaytimeClock, provider: FakeProvider
) -> None:
    jobline = Jobline(settings, database.sessions, clock=daytime)

    async def go() -> float:
        channel = HttpChannel(provider.url)
        dispatcher = Dispatcher(
            database.sessions, {"sms": channel}, settings, clock=daytime, poll_seconds=30
        )
        jobline.on_reply.append(dispatcher.wake)
        stop = asyncio.Event()
        running = asyncio.ensure_future(dispatcher.run(stop))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        texting = threading.Thread(
            target=jobline.handle, args=(InboundMessage("sms", phone(5), "hello", "SM1"),)
        )
        texting.start()
        while not provider.accepted and time.monotonic() - started < 20:
            await asyncio.sleep(0.01)
        took = time.monotonic() - started
        stop.set()
        await running
        texting.join()
        await channel.close()
        dispatcher.close()
        return took

    took = asyncio.run(go())
    assert provider.accepted and provider.accepted[0]["to"] == phone(5)
    assert took < 15  # polling would have taken 30 s (a busy machine may take a few seconds)


def test_console_rows_are_left_for_the_chat(
    database: Database, settings: Settings, daytime: DaytimeClock, provider: FakeProvider
) -> None:
    add_seekers(database.sessions, 2, channel="console")
    with transaction(database.sessions) as session:
        for contact in session.scalars(select(Contact)):
            outbox.queue(
                session,
                contact=contact,
                text="hi",
                idempotency_key=f"c{contact.id}",
                now=daytime(),
            )
    dispatcher = Dispatcher(
        database.sessions, {"sms": HttpChannel(provider.url), "console": HttpChannel("")}, settings
    )
    assert dispatcher.claim() == []
    dispatcher.close()


class DropsTheAnswerOnce(HttpChannel):
    """The provider takes the first message, but the answer is lost on the way back."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.dropped = False

    async def send(self, message: OutgoingMessage) -> SendResult:
        result = await super().send(message)
        if not self.dropped:
            self.dropped = True
            raise TimeoutError("read timed out")
        return result


def test_an_unclear_send_is_reconciled_not_resent(
    database: Database, settings: Settings, daytime: DaytimeClock, provider: FakeProvider
) -> None:
    add_seekers(database.sessions, 3)
    queue_to_all(database, "broadcast", daytime)

    async def go() -> None:
        channel = DropsTheAnswerOnce(provider.url)
        dispatcher = Dispatcher(
            database.sessions, {"sms": channel}, settings, clock=daytime, lease_seconds=0.3
        )
        dispatcher.record(await dispatcher.send_all(dispatcher.claim()))
        assert statuses(database) == {"sent": 2, "sending": 1}
        await asyncio.sleep(0.4)  # the lease ends
        assert await dispatcher.reconcile() == 1
        dispatcher.close()

    asyncio.run(go())
    assert statuses(database) == {"sent": 3}
    assert set(provider.per_address().values()) == {1}


def test_delivery_outlives_a_storage_failure(
    database: Database, settings: Settings, daytime: DaytimeClock, provider: FakeProvider
) -> None:
    add_seekers(database.sessions, 2)

    def rename(old: str, new: str) -> None:
        with database.engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))

    async def go() -> tuple[bool, bool]:
        channel = HttpChannel(provider.url)
        dispatcher = Dispatcher(
            database.sessions,
            {"sms": channel},
            settings,
            clock=daytime,
            poll_seconds=0.05,
            restart_seconds=0.1,
        )
        stop = asyncio.Event()
        running = asyncio.ensure_future(dispatcher.run(stop))
        await asyncio.sleep(0.2)
        await asyncio.to_thread(rename, "outbox", "outbox_away")
        await asyncio.sleep(0.5)
        broken = dispatcher.healthy
        await asyncio.to_thread(rename, "outbox_away", "outbox")
        await asyncio.to_thread(queue_to_all, database, "broadcast", daytime)
        for _ in range(200):
            if len(provider.accepted) == 2:
                break
            await asyncio.sleep(0.02)
        stop.set()
        await running
        await channel.close()
        dispatcher.close()
        return broken, dispatcher.healthy

    broken, healed = asyncio.run(go())
    assert (broken, healed) == (False, True)
    assert len(provider.accepted) == 2
