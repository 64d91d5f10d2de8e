"""Seekers as caseworkers see them: search and filters, one seeker's story, export rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, func, select
from sqlalchemy.orm import Session

from db.models import (
    Application,
    Contact,
    FairSubscription,
    JobFair,
    Message,
    OutboxMessage,
    Seeker,
)
from notify.broadcasts import aged_4050

PAGE_SIZE = 50

EXPORT_FIELDS = (
    "phone",
    "name",
    "birth_year",
    "gender",
    "district",
    "interests",
    "concession_card",
    "language",
    "opted_out",
    "registered_at",
)


def export_rows(session: Session, condition: ColumnElement[bool]) -> Iterator[dict[str, Any]]:
    """Every matching seeker's profile as exported (JSON and CSV), oldest first, streamed."""
    columns = [getattr(Seeker, name) for name in EXPORT_FIELDS]
    query = select(*columns).where(condition).order_by(Seeker.id)
    for row in session.execute(query.execution_options(yield_per=2000)):
        found = dict(row._mapping)
        registered = found["registered_at"]
        found["registered_at"] = registered.isoformat() if registered else None
        yield found


def csv_row(row: dict[str, Any]) -> dict[str, Any]:
    """An export row with its list of interests as one cell."""
    return {**row, "interests": " ".join(row["interests"] or [])}


@dataclass(frozen=True)
class SeekerFilter:
    """What the Seekers page narrows the list by; empty means any."""

    search: str = ""
    district: str = ""
    interest: str = ""
    group_4050: bool = False
    card: bool = False
    opted_out: bool = False

    def condition(self, today: date, women_age: int, men_age: int) -> ColumnElement[bool]:
        """The SQL condition (test seekers never match)."""
        parts: list[ColumnElement[bool]] = [Seeker.is_test.is_(False)]
        words = self.search.strip()
        if words:
            pattern = f"%{escape_like(words.lower())}%"
            digits = "".join(c for c in words if c not in " +-()")
            if digits.isdigit() and len(digits) >= 3:  # a phone number, or part of one
                parts.append(Seeker.phone.like(f"%{digits}%"))
            else:
                parts.append(func.lower(Seeker.name).like(pattern, escape="\\"))
        if self.district:
            parts.append(Seeker.district == self.district)
        if self.interest:
            # JSON list stored as text on both databases: match the quoted slug.
            quoted = f'%"{escape_like(self.interest)}"%'
            parts.append(cast(Seeker.interests, String).like(quoted, escape="\\"))
        if self.group_4050:
            parts.append(aged_4050(today, women_age, men_age))
        if self.card:
            parts.append(Seeker.concession_card.is_(True))
        if self.opted_out:
            parts.append(Seeker.opted_out.is_(True))
        return and_(*parts)


def escape_like(text: str) -> str:
    """Text with LIKE's wildcards taken literally (escape character backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class SeekerPage:
    """One page of the filtered list and how many match in all."""

    seekers: list[Seeker]
    total: int
    number: int
    pages: int


def find_seekers(
    session: Session, condition: ColumnElement[bool], number: int = 1, size: int = PAGE_SIZE
) -> SeekerPage:
    """The seekers matching, newest first, one page of them."""
    total = session.scalar(select(func.count()).select_from(Seeker).where(condition)) or 0
    pages = max(1, -(-total // size))
    number = min(max(1, number), pages)
    query = (
        select(Seeker)
        .where(condition)
        .order_by(Seeker.id.desc())
        .limit(size)
        .offset((number - 1) * size)
    )
    return SeekerPage(list(session.scalars(query)), total, number, pages)


@dataclass(frozen=True)
class Line:
    """One message in a conversation: from the seeker (in) or to them (out)."""

    direction: str
    text: str
    at: datetime
    channel: str
    status: str
    kind: str = "text"


def conversation(session: Session, contact_ids: Sequence[int], limit: int) -> list[Line]:
    """The last `limit` messages both ways over these contacts, oldest first."""
    if not contact_ids:
        return []
    said = session.scalars(
        select(Message)
        .where(Message.contact_id.in_(contact_ids), Message.direction == "in")
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    )
    sent = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.contact_id.in_(contact_ids))
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )
    lines = [
        (m.created_at, 0, m.id, Line("in", m.text, m.created_at, m.channel, m.status, m.kind))
        for m in said
    ]
    lines += [
        (o.created_at, 1, o.id, Line("out", o.text, o.created_at, o.channel, o.status, o.kind))
        for o in sent
    ]
    lines.sort(key=lambda item: item[:3])
    return [item[3] for item in lines[-limit:]]


@dataclass(frozen=True)
class SeekerStory:
    """A seeker's profile, channels, applications, fairs and conversation."""

    seeker: Seeker
    contacts: list[Contact]
    applications: list[Application]
    fairs: list[tuple[JobFair, bool]]
    lines: list[Line] = field(default_factory=list)


def seeker_story(session: Session, seeker: Seeker, limit: int) -> SeekerStory:
    """Everything about one seeker, with their last `limit` messages."""
    contacts = list(
        session.scalars(select(Contact).where(Contact.seeker_id == seeker.id).order_by(Contact.id))
    )
    applications = list(
        session.scalars(
            select(Application)
            .where(Application.seeker_id == seeker.id)
            .order_by(Application.created_at.desc())
        )
    )
    fairs = [
        (fair, bool(attending))
        for fair, attending in session.execute(
            select(JobFair, FairSubscription.attending)
            .join(FairSubscription, FairSubscription.fair_id == JobFair.id)
            .where(FairSubscription.seeker_id == seeker.id)
            .order_by(JobFair.starts_at)
        ).all()
    ]
    lines = conversation(session, [c.id for c in contacts], limit)
    return SeekerStory(seeker, contacts, applications, fairs, lines)
