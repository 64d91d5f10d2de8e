"""The path of one message: stored before the turn, deduplicated, resumed after a restart."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.channels.base import InboundMessage
from bot.conversation import Jobline
from bot.settings import Settings
from db.models import Message, OutboxMessage
from db.setup import Database
from tests.conftest import Clock


def test_duplicate_provider_id_gives_one_turn(jobline: Jobline, database: Database) -> None:
    inbound = InboundMessage("sms", "+8613800000001", "register", external_id="SM1")
    first = jobline.handle(inbound)
    again = jobline.handle(inbound)
    assert not first.duplicate and again.duplicate and again.message_id == first.message_id
    with database.sessions() as session:
        assert session.scalar(select(func.count(Message.id))) == 1
        assert session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_a_stored_message_is_answered_after_a_restart(
    settings: Settings, database: Database, clock: Clock
) -> None:
    before = Jobline(settings, database.sessions, clock=clock)
    before.receive(InboundMessage("sms", "+8613800000002", "register", external_id="SM2"))
    after = Jobline(settings, database.sessions, clock=clock)
    assert after.resume() == 1
    assert after.resume() == 0
    with database.sessions() as session:
        texts = list(session.scalars(select(OutboxMessage.text)))
    assert len(texts) == 1 and "What is your name?" in texts[0]
