"""One contact opted out on its own (blocked on Telegram): the seeker's SMS still gets messages."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from bot.database import Database
from bot.settings import Settings
from db.models import Broadcast, Contact, ContactStop, OutboxMessage, Seeker
from db.session import transaction
from notify import broadcasts, outbox
from notify.dispatcher import Dispatcher
from notify.fairs import add_fair, reminders_due
from tests.fakes.people import DaytimeClock, add_seekers, phone
from tests.fakes.provider import FakeProvider, HttpChannel
from tests.notify.test_reliability import broadcast_to_all

SEEKERS = 3


def chat(number: int) -> str:
    """Seeker `number`'s Telegram chat id."""
    return str(7_000_000 + number)


def with_telegram(database: Database, clock: DaytimeClock) -> None:
    """SEEKERS seekers with an SMS number and a Telegram chat, Telegram written from last."""
    add_seekers(database.sessions, SEEKERS)
    with transaction(database.sessions) as session:
        for number in range(SEEKERS):
            seeker = session.scalar(select(Seeker).where(Seeker.phone == phone(number)))
            assert seeker is not None
            contact = Contact(
                channel="telegram",
                address=chat(number),
                seeker_id=seeker.id,
                created_at=clock(),
                last_inbound_at=clock(),
            )
            session.add(contact)


def send(
    database: Database, settings: Settings, clock: DaytimeClock, sms: FakeProvider, tg: FakeProvider
) -> None:
    """Run a dispatcher over both fake providers until nothing is left."""

    async def go() -> None:
        channels = {"sms": HttpChannel(sms.url), "telegram": HttpChannel(tg.url, "telegram")}
        dispatcher = Dispatcher(
            database.sessions, channels, settings, clock=clock, poll_seconds=0.02
        )
        try:
            await asyncio.wait_for(dispatcher.run(until_idle=True), timeout=60)
        finally:
            for channel in channels.values():
                await channel.close()
            dispatcher.close()

    asyncio.run(go())


def stopped(database: Database) -> dict[str, str | None]:
    with database.sessions() as session:
        return {c.address: c.stopped for c in session.scalars(select(Contact))}


def test_blocked_on_telegram_stops_that_chat_and_sms_still_gets_broadcasts(
    database: Database, settings: Settings, daytime: DaytimeClock, provider: FakeProvider
) -> None:
    with_telegram(database, daytime)
    tg = FakeProvider().start()
    try:
        tg.blocked.add(chat(0))
        broadcast_to_all(database, settings, daytime, text="First news")
        send(database, settings, daytime, provider, tg)
        assert stopped(database)[chat(0)] == ContactStop.BLOCKED
        assert stopped(database)[phone(0)] is None
        with database.sessions() as session:
            assert session.scalar(select(Seeker).where(Seeker.opted_out.is_(True))) is None
        # A reply still waiting for the blocked chat is never tried (Telegram would refuse it).
        with transaction(database.sessions) as session:
            gone = session.scalar(select(Contact).where(Contact.address == chat(0)))
            assert gone is not None
            outbox.queue(session, contact=gone, text="late", idempotency_key="late", now=daytime())
        broadcast_to_all(database, settings, daytime, text="Second news")
        send(database, settings, daytime, provider, tg)
    finally:
        tg.stop()
    # The second news reached seeker 0 by SMS, everyone else by Telegram, each once.
    assert provider.per_address() == {phone(0): 1}
    assert tg.per_address() == {chat(1): 2, chat(2): 2}
    with database.sessions() as session:
        late = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == "late"))
        assert late is not None and late.status == "skipped_opted_out"


def test_audience_counts_and_reminders_pass_over_a_stopped_contact(
    database: Database, settings: Settings, daytime: DaytimeClock
) -> None:
    with_telegram(database, daytime)
    with transaction(database.sessions) as session:
        outbox.stop_contacts(
            session,
            select(Contact.id).where(Contact.address == chat(0)),
            ContactStop.BLOCKED,
        )
        # Seeker 1 can be reached nowhere: STOP from the phone, Telegram blocked.
        outbox.stop_contacts(
            session,
            select(Contact.id).where(Contact.address.in_((chat(1), phone(1)))),
            ContactStop.STOP,
        )
        draft = broadcasts.create(
            session, segment=broadcasts.parse_segment("all"), text="News", now=daytime()
        )
        found = broadcasts.preview(session, draft, settings)
        fair = add_fair(
            session,
            name="Daoli Fair",
            starts_at=daytime() + timedelta(days=1),
            venue="Daoli Hall",
            district="Daoli",
            now=daytime(),
        )
        fair_id = fair.id
    assert found.recipients == SEEKERS - 1
    assert dict(found.channels) == {"sms": 1, "telegram": 1}
    [reminder] = reminders_due(database.sessions, settings, daytime())
    with database.sessions() as session:
        sent = session.get(Broadcast, reminder)
        assert sent is not None and sent.fair_id == fair_id
        sent_to = set(
            session.scalars(
                select(OutboxMessage.address).where(OutboxMessage.broadcast_id == reminder)
            )
        )
    assert sent_to == {phone(0), chat(2)}


def test_a_stop_the_number_said_outranks_a_block(database: Database, daytime: DaytimeClock) -> None:
    with_telegram(database, daytime)
    with transaction(database.sessions) as session:
        contacts = select(Contact.id).where(Contact.address == phone(0))
        outbox.stop_contacts(session, contacts, ContactStop.STOP)
        outbox.stop_contacts(session, contacts, ContactStop.BLOCKED)
    assert stopped(database)[phone(0)] == ContactStop.STOP
    with transaction(database.sessions) as session:
        session.execute(update(Contact).values(stopped=None))
        contacts = select(Contact.id).where(Contact.address == phone(0))
        outbox.stop_contacts(session, contacts, ContactStop.BLOCKED)
        outbox.stop_contacts(session, contacts, ContactStop.STOP)
    assert stopped(database)[phone(0)] == ContactStop.STOP
