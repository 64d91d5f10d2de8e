"""STOP is the seeker's word; a blocked chat stops that chat only (the rule in notify/outbox.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.channels.base import InboundMessage
from bot.conversation import Jobline
from bot.database import Database
from bot.settings import Settings
from caseworker import casework
from caseworker.casework import CaseworkError
from db.models import Contact, ContactStop, OutboxMessage, Seeker
from db.session import transaction
from notify import broadcasts
from tests.conftest import Clock

PHONE = "+8613800000077"
CHAT = "5550077"


class TwoChannels:
    """One seeker who texts from a phone and chats on Telegram."""

    def __init__(self, jobline: Jobline, database: Database, clock: Clock) -> None:
        self.jobline = jobline
        self.database = database
        self.clock = clock
        self.sent = 0
        self.sms("hi")
        with transaction(database.sessions) as session:
            seeker_id = session.scalar(select(Seeker.id).where(Seeker.phone == PHONE))
            assert seeker_id is not None
            session.add(
                Contact(channel="telegram", address=CHAT, seeker_id=seeker_id, created_at=clock())
            )

    def say(self, channel: str, address: str, text: str) -> list[str]:
        """Send one message; the texts queued for that address because of it."""
        before = len(self.to(address))
        self.sent += 1
        self.clock.advance(seconds=1)
        inbound = InboundMessage(channel, address, text, external_id=f"m{self.sent}")
        self.jobline.handle(inbound)
        return self.to(address)[before:]

    def sms(self, text: str) -> list[str]:
        return self.say("sms", PHONE, text)

    def telegram(self, text: str) -> list[str]:
        return self.say("telegram", CHAT, text)

    def to(self, address: str) -> list[str]:
        with self.database.sessions() as session:
            query = select(OutboxMessage.text).where(OutboxMessage.address == address)
            return list(session.scalars(query.order_by(OutboxMessage.id)))

    def state(self) -> tuple[bool, str | None, str | None]:
        """(the seeker opted out, the phone's stop, the chat's stop)."""
        with self.database.sessions() as session:
            seeker = session.scalar(select(Seeker).where(Seeker.phone == PHONE))
            assert seeker is not None
            stops = {c.channel: c.stopped for c in seeker.contacts}
            return seeker.opted_out, stops["sms"], stops["telegram"]

    def reached_by(self, settings: Settings) -> dict[str, int]:
        """The channels an announcement to everyone would use for this seeker."""
        with transaction(self.database.sessions) as session:
            session.execute(Seeker.__table__.update().values(alerts=True))
            draft = broadcasts.create(
                session, segment=broadcasts.Segment("all"), text="News", now=self.clock()
            )
            found = dict(broadcasts.preview(session, draft, settings).channels)
            session.rollback()
            return found


def test_stop_by_text_stops_the_seeker_and_that_number_until_it_says_start(
    jobline: Jobline, database: Database, clock: Clock, settings: Settings
) -> None:
    person = TwoChannels(jobline, database, clock)
    [confirmed] = person.sms("STOP")
    assert "no more texts" in confirmed
    assert person.state() == (True, ContactStop.STOP, None)
    assert person.telegram("jobs") == []  # the seeker's STOP holds on every channel
    assert person.reached_by(settings) == {}
    assert "texts again" in "\n".join(person.telegram("START"))
    # Telegram is back; the phone that said STOP stays stopped until it says START itself.
    assert person.state() == (False, ContactStop.STOP, None)
    assert person.reached_by(settings) == {"telegram": 1}
    assert person.sms("jobs") == []
    [help_text] = person.sms("HELP")
    assert "Reply START" in help_text
    assert "texts again" in "\n".join(person.sms("START"))
    assert person.state() == (False, None, None)


def test_a_blocked_chat_leaves_sms_on_and_is_reachable_again_when_it_writes(
    jobline: Jobline, database: Database, clock: Clock, settings: Settings
) -> None:
    person = TwoChannels(jobline, database, clock)
    person.telegram("menu")
    with transaction(database.sessions) as session:
        chat = session.scalar(select(Contact).where(Contact.address == CHAT))
        assert chat is not None
        chat.stopped = ContactStop.BLOCKED  # as the dispatcher marks a Telegram 403
    assert person.reached_by(settings) == {"sms": 1}
    assert person.sms("menu") != []
    assert person.telegram("menu") != []  # unblocked: Telegram brought their words
    assert person.state() == (False, None, None)
    assert person.reached_by(settings) == {"telegram": 1}


def test_a_caseworker_answers_through_the_channel_still_open(
    jobline: Jobline, database: Database, clock: Clock
) -> None:
    person = TwoChannels(jobline, database, clock)
    person.telegram("9")  # asks for a person on Telegram, the channel written from last
    with transaction(database.sessions) as session:
        chat = session.scalar(select(Contact).where(Contact.address == CHAT))
        assert chat is not None
        chat.stopped = ContactStop.BLOCKED
    with transaction(database.sessions) as session:
        seeker = session.scalar(select(Seeker).where(Seeker.phone == PHONE))
        assert seeker is not None
        casework.reply(session, seeker, "We have a cleaning job for you.", clock())
    assert "We have a cleaning job for you." in person.to(PHONE)[-1]
    with transaction(database.sessions) as session:
        phone = session.scalar(select(Contact).where(Contact.address == PHONE))
        assert phone is not None
        phone.stopped = ContactStop.STOP
    with transaction(database.sessions) as session:
        seeker = session.scalar(select(Seeker).where(Seeker.phone == PHONE))
        assert seeker is not None
        with pytest.raises(CaseworkError, match="gets no texts"):
            casework.reply(session, seeker, "Still there?", clock())
