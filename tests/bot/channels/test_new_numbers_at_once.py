"""Several texts at once from numbers Jobline has never seen: each is stored and answered."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from bot.channels.twilio_sms import EMPTY_TWIML
from bot.database import Database
from db.models import Contact, Message, OutboxMessage, Seeker
from tests.bot.channels.conftest import Phone

NUMBERS = 20
TEXTS_EACH = 5


def test_five_texts_at_once_from_each_of_twenty_new_numbers(
    phone: Phone, database: Database
) -> None:
    phones = [Phone(phone.web, number=f"+861390000{n:04d}") for n in range(NUMBERS)]
    sends = [(p, k) for p in phones for k in range(TEXTS_EACH)]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda pair: pair[0].texts(f"hello {pair[1]}"), sends))
    errors = [code for code, _ in answers if code != 200]
    assert errors == []
    assert {text for _, text in answers} == {EMPTY_TWIML}
    with database.sessions() as session:
        assert session.scalar(select(func.count(Seeker.id))) == NUMBERS
        assert session.scalar(select(func.count(Contact.id))) == NUMBERS
        statuses = list(session.scalars(select(Message.status)))
        answered = session.scalar(
            select(func.count(func.distinct(OutboxMessage.idempotency_key))).where(
                OutboxMessage.idempotency_key.like("reply:%:0")
            )
        )
    assert statuses == ["handled"] * NUMBERS * TEXTS_EACH
    assert answered == NUMBERS * TEXTS_EACH


ODD_SENDERS = [
    ("short code", "10086"),
    ("bank short code", "95588"),
    ("short code as +86", "+8610086"),
    ("Arabic-Indic digits", "+٨٦١٣٨٠٠٠٠٠٠٠١"),
    ("full-width digits", "+８６１３８００００００００１"),
    ("too short", "+86138"),
]


def test_odd_senders_are_refused_and_never_answered(phone: Phone, database: Database) -> None:
    for name, sender in ODD_SENDERS:
        code, _ = Phone(phone.web, number=sender).texts("hello")
        assert code == 400, name
    with database.sessions() as session:
        assert session.scalar(select(func.count(Message.id))) == 0
        assert session.scalar(select(func.count(OutboxMessage.id))) == 0
        assert session.scalar(select(func.count(Seeker.id))) == 0


def test_a_one_megabyte_body_is_too_large_not_forged(phone: Phone, database: Database) -> None:
    code, text = phone.texts("x" * 1_000_000)
    assert (code, text) == (413, "too large")
    code, _ = phone.texts("x" * 1_500)
    assert code == 200


def test_control_characters_are_stripped_and_the_text_answered(
    phone: Phone, database: Database
) -> None:
    assert phone.texts("he\x00l\x07p\x1b") == (200, EMPTY_TWIML)
    with database.sessions() as session:
        stored = session.scalars(select(Message)).one()
        replies = list(session.scalars(select(OutboxMessage.text)))
    assert (stored.text, stored.status) == ("help", "handled")
    assert len(replies) == 1 and "STOP" in replies[0]
