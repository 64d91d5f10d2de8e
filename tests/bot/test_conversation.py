"""The path of one message: stored before the turn, deduplicated, resumed after a restart."""

from __future__ import annotations

from sqlalchemy import func, select, update

from bot.channels.base import InboundMessage
from bot.conversation import Jobline
from bot.database import Database
from bot.settings import Settings
from db.models import Conversation, Message, OutboxMessage
from nlu.parse import Parse
from nlu.understand import Understander
from tests.conftest import Clock, Seeker


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
    assert len(texts) == 1 and "Your name and birth year?" in texts[0]


def test_two_processes_taking_a_first_turn_at_once_both_answer(
    settings: Settings, database: Database, clock: Clock
) -> None:
    """Two Jobline instances (two processes) answer one contact's first two messages at once."""
    import threading

    one = Jobline(settings, database.sessions, clock=clock)
    two = Jobline(settings, database.sessions, clock=clock)
    phone = "+8613800000009"
    first = one.receive(InboundMessage("sms", phone, "hello", external_id="SMa"))
    second = two.receive(InboundMessage("sms", phone, "help", external_id="SMb"))
    threads = [
        threading.Thread(target=one.take_turn, args=(first,)),
        threading.Thread(target=two.take_turn, args=(second,)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    with database.sessions() as session:
        statuses = list(session.scalars(select(Message.status)))
        replies = session.scalar(select(func.count(OutboxMessage.id)))
    assert statuses == ["handled", "handled"]
    assert replies == 2


def test_a_turn_whose_state_changed_meanwhile_decides_again_and_answers_once(
    settings: Settings, database: Database, clock: Clock
) -> None:
    meddled: list[str] = []

    class Meddler(Understander):
        """Another writer moves the conversation on while the turn reads the words."""

        def understand(
            self, text: str, language: str = "en", expecting: str | None = None
        ) -> Parse:
            if text == "Wang Fang" and not meddled:
                with database.engine.begin() as connection:
                    connection.execute(
                        update(Conversation).values(version=Conversation.version + 1)
                    )
                meddled.append(text)
            return super().understand(text, language, expecting)

    seeker = Seeker(Jobline(settings, database.sessions, understander=Meddler(), clock=clock))
    seeker.says("register")
    assert seeker.says("Wang Fang").startswith("Thank you, Wang Fang.")  # decided again
    assert meddled == ["Wang Fang"]
    with database.sessions() as session:
        # One reply per text: the first try's reply went with its rolled-back transaction.
        assert session.scalar(select(func.count(OutboxMessage.id))) == 2
        assert session.scalar(select(Conversation.version)) == 3  # 1, the meddler's 2, then 3
