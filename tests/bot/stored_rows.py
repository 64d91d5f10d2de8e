"""First texts: what a store of them wrote (to compare two ways of storing them), and texts
received at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select

from bot.channels.base import InboundMessage
from bot.conversation import Jobline, Received
from bot.database import Database
from db.models import Contact, Message, Seeker

# First texts, each from a number Jobline has not seen (the last from the console's seeker).
FIRST_TEXTS = [
    InboundMessage("sms", "+8613900000002", "hi", external_id="SM1"),
    InboundMessage("sms", "+8613900000003", "hi", external_id="SM2", device="gateway-2"),
    InboundMessage("sms", "+8613900000004", "STOP", external_id="SM3", kind="stop"),
    InboundMessage("console", "+8613900000005", "hello"),
    InboundMessage("sms", "+8613900000005", "hi again", external_id="SM4"),
]


def stored_rows(database: Database) -> list[dict[str, Any]]:
    """Every message with its contact and seeker, their columns but the ids."""
    query = (
        select(Message, Contact, Seeker)
        .join(Contact, Contact.id == Message.contact_id)
        .join(Seeker, Seeker.id == Contact.seeker_id)
        .order_by(Message.id)
    )
    ids = {"id", "contact_id", "seeker_id"}
    with database.sessions() as session:
        return [
            {
                f"{row.__tablename__}.{column.key}": getattr(row, column.key)
                for row in found
                for column in row.__table__.columns
                if column.key not in ids
            }
            for found in session.execute(query)
        ]


def at_once(jobline: Jobline | list[Jobline], texts: list[InboundMessage]) -> list[Received]:
    """Receive these texts in threads that start together (by turns on each Jobline given)."""
    start = threading.Barrier(len(texts))
    joblines = jobline if isinstance(jobline, list) else [jobline]

    def receive(index: int) -> Received:
        start.wait(timeout=30)
        return joblines[index % len(joblines)].receive(texts[index])

    with ThreadPoolExecutor(len(texts)) as pool:
        return list(pool.map(receive, range(len(texts))))


def first_texts_at_once(
    jobline: Jobline | list[Jobline], database: Database, numbers: int, each: int
) -> None:
    """Each of `numbers` new phone numbers sends `each` first texts at once: each number gets
    one seeker and one contact, and every text is stored once."""
    for number in range(numbers):
        phone = f"+86139100000{number:02d}"
        texts = [InboundMessage("sms", phone, f"hi {n}", f"SM{number}-{n}") for n in range(each)]
        received = at_once(jobline, texts)
        assert len({one.contact_id for one in received}) == 1
        assert not any(one.duplicate for one in received)
    with database.sessions() as session:
        assert session.scalar(select(func.count(Seeker.id))) == numbers
        assert session.scalar(select(func.count(Contact.id))) == numbers
        assert session.scalar(select(func.count(Message.id))) == numbers * each
