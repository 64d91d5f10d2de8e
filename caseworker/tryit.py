"""Try it: pretend seekers a caseworker texts Jobline as, for training and demonstrations."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from caseworker.casework import CaseworkError
from caseworker.seekers import Line, conversation
from db.models import Contact, Seeker

# +86 100... is no real Chinese number, so a test seeker never shares a phone with a person.
TEST_PHONE_PREFIX = "+86100"
CHANNEL = "console"
SCREEN_LINES = 60


class Conversations(Protocol):
    """What the phone simulator needs from the running Jobline: take one text's turn."""

    def say(self, phone: str, text: str) -> None:
        """Text Jobline from this console phone; its replies land in the outbox, delivered."""


def new_test_seeker(session: Session, language: str, now: datetime) -> Seeker:
    """A fresh test seeker with a console phone, marked so counts and broadcasts skip it."""
    phones = session.scalars(
        select(Seeker.phone).where(Seeker.is_test.is_(True), Seeker.phone.is_not(None))
    )
    numbers = [
        int(p[len(TEST_PHONE_PREFIX) :])
        for p in phones
        if p and p[len(TEST_PHONE_PREFIX) :].isdigit()
    ]
    phone = f"{TEST_PHONE_PREFIX}{max(numbers, default=0) + 1:08d}"
    seeker = Seeker(phone=phone, language=language, interests=[], is_test=True, created_at=now)
    session.add(seeker)
    session.flush()
    session.add(Contact(channel=CHANNEL, address=phone, seeker_id=seeker.id, created_at=now))
    session.flush()
    return seeker


def all_test_seekers(session: Session) -> list[Seeker]:
    """Every test seeker, newest first."""
    query = select(Seeker).where(Seeker.is_test.is_(True)).order_by(Seeker.id.desc())
    return list(session.scalars(query))


def find_test_seeker(session: Session, seeker_id: int) -> Seeker:
    """The test seeker with this id; a real seeker is never simulated."""
    seeker = session.get(Seeker, seeker_id)
    if seeker is None or not seeker.is_test or seeker.phone is None:
        raise CaseworkError(f"no test seeker with id {seeker_id}", "no_test_seeker")
    return seeker


def phone_screen(session: Session, seeker: Seeker, limit: int = SCREEN_LINES) -> list[Line]:
    """The test seeker's last texts both ways, oldest first."""
    contact_id = session.scalar(
        select(Contact.id).where(Contact.channel == CHANNEL, Contact.address == seeker.phone)
    )
    return conversation(session, [contact_id] if contact_id is not None else [], limit)
