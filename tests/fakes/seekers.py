"""A registered seeker in a few lines: the registration transcript, the stored row, references."""

from __future__ import annotations

import re
from typing import Protocol

from sqlalchemy import select

from bot.database import Database
from db.models import Seeker as SeekerRow


class Texting(Protocol):
    """Anyone who texts Jobline and reads the answers (tests.conftest.Seeker, EngineSeeker)."""

    def send(self, message: str, kind: str = "text") -> list[str]:
        """Text Jobline; get back what it answered."""
        ...

    def says(self, message: str, kind: str = "text") -> str:
        """Text Jobline; get back the whole answer as one string."""
        ...


# What a new seeker sends to register, and a piece of each answer.
HAPPY_PATH = [
    ("register", "Your name and birth year?"),
    ("wang lei", "What year were you born?"),
    ("1972", "man or a woman"),
    ("1", "Which district"),
    ("daoli", "What work do you want?"),
    ("1 4", "text you about new jobs"),
    ("1", "Please check: Wang Lei, born 1972, man, Daoli. Work: Cleaning, Cooking"),
    ("1", "You are registered"),
]
# An application's reference in the "applied" reply.
REFERENCE = re.compile(r"Your reference is ([A-HJ-NP-Z2-9]{4})\.")


def register(seeker: Texting) -> None:
    """Register the seeker as Wang Lei, 1972, man, Daoli, cleaning and cooking."""
    for sent, _ in HAPPY_PATH:
        seeker.send(sent)


def stored(database: Database, phone: str = "+8613800000001") -> SeekerRow:
    """The seeker row of a phone number."""
    with database.sessions() as session:
        row = session.scalar(select(SeekerRow).where(SeekerRow.phone == phone))
        assert row is not None
        return row


def apply_for(seeker: Texting, number: str) -> str:
    """Apply for job `number` of the seeker's jobs list; the application's reference."""
    seeker.send("jobs")
    seeker.send(number)
    found = REFERENCE.search(seeker.says("1"))
    assert found is not None
    return found.group(1)
