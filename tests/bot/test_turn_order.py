"""A seeker's texts are answered in the order they came, whichever turn runs first."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from bot.channels.base import InboundMessage
from bot.conversation import Jobline, Received
from db.models import Message, OutboxMessage

TEXTS = ("register", "Wang Fang")  # the second answers the question the first opens


def replies(jobline: Jobline, contact_id: int) -> list[tuple[int, str]]:
    """(message id, reply text) of every reply queued for a contact, in queue order."""
    with jobline.sessions() as session:
        rows = session.execute(
            select(OutboxMessage.idempotency_key, OutboxMessage.text)
            .where(OutboxMessage.contact_id == contact_id)
            .order_by(OutboxMessage.id)
        ).all()
    return [(int(key.split(":")[1]), text) for key, text in rows]


def test_a_later_texts_turn_answers_the_earlier_text_first(jobline: Jobline) -> None:
    alone = [jobline.handle(InboundMessage("console", "+8613800000076", text)) for text in TEXTS]
    expected = [text for _, text in replies(jobline, alone[0].contact_id)]

    phone = "+8613800000077"
    first, second = (jobline.receive(InboundMessage("console", phone, text)) for text in TEXTS)
    jobline.take_turn(second)  # its turn ran first (another thread or process got it first)
    queued = replies(jobline, first.contact_id)
    assert [message for message, _ in queued] == sorted(message for message, _ in queued)
    assert {message for message, _ in queued} == {first.message_id, second.message_id}
    assert [text for _, text in queued] == expected  # the second saw the state the first wrote
    with jobline.sessions() as session:
        statuses = set(
            session.scalars(select(Message.status).where(Message.contact_id == first.contact_id))
        )
    assert statuses == {"handled"}

    jobline.take_turn(Received(first.contact_id, first.message_id))  # its own turn, late
    assert replies(jobline, first.contact_id) == queued  # nothing answered twice


def test_turns_at_once_keep_each_contacts_order_and_leave_no_lock_behind(jobline: Jobline) -> None:
    alone = [jobline.handle(InboundMessage("console", "+8613800000080", text)) for text in TEXTS]
    expected = [text for _, text in replies(jobline, alone[0].contact_id)]
    phones = [f"+86138000001{n:02d}" for n in range(6)]
    received = [jobline.receive(InboundMessage("console", p, t)) for p in phones for t in TEXTS]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(jobline.take_turn, reversed(received)))  # later texts first, all at once
    for contact_id in {r.contact_id for r in received}:
        assert [text for _, text in replies(jobline, contact_id)] == expected
    assert jobline._locks == {}  # a lock lives only while a turn holds or waits for it
