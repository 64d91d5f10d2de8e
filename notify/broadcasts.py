"""Caseworker broadcasts and fair alerts: pick a segment, preview, then queue in batches."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, false, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from db.models import (
    Broadcast,
    Contact,
    Conversation,
    FairSubscription,
    JobFair,
    OutboxMessage,
    OutboxStatus,
    Seeker,
)
from db.problems import Problem
from db.session import transaction
from flows.catalogue import render
from flows.dates import date_and_time
from flows.types import State
from notify.config import NotifyConfig
from notify.outbox import PRIORITY
from notify.quiet import quiet_hours
from notify.sms import make_sms_safe, segments

# Outbox kind for each kind of broadcast.
OUTBOX_KIND = {"announcement": "broadcast", "alert": "alert", "reminder": "reminder"}
# When a seeker has several channels and has written from none, the cheapest goes first.
CHANNEL_PREFERENCE = ("telegram", "sms", "console")
# After a fair alert or reminder, these answers mean "I will come".
RSVP_OFFERS = {"1": "fair_rsvp", "yes": "fair_rsvp"}
STATUSES = tuple(OutboxStatus)


class BadSegment(Problem):
    """A segment the CLI or dashboard cannot understand; the message says what works."""


@dataclass(frozen=True)
class Segment:
    """Who a broadcast goes to: all, district, interest, 4050, card, subscribers, or fair."""

    kind: str
    value: str = ""  # subscribers and fair: the fair's id, or "" for the broadcast's own fair

    def __str__(self) -> str:
        if self.kind in ("district", "interest"):
            return f"{self.kind}={self.value}"
        if self.kind in ("4050", "card"):
            return f"group={self.kind}"
        if self.kind in ("subscribers", "fair") and self.value:
            return f"{self.kind}={self.value}"
        return self.kind

    @property
    def fair_id(self) -> int | None:
        """The fair whose people this segment is, when it names one."""
        return int(self.value) if self.kind in ("subscribers", "fair") and self.value else None


def parse_segment(text: str) -> Segment:
    """'all', 'district=Daoli', 'interest=cleaning', 'group=4050', 'group=card', 'fair=3'."""
    name, _, value = text.strip().partition("=")
    name, value = name.strip().lower(), value.strip()
    if name in ("all", "subscribers", "fair") and not value:
        return Segment(name)
    if name in ("subscribers", "fair") and value.isdigit():
        return Segment(name, str(int(value)))
    if name in ("district", "interest") and value:
        return Segment(name, value if name == "district" else value.lower())
    if name == "group" and value.lower() in ("4050", "card"):
        return Segment(value.lower())
    raise BadSegment(
        f"unknown segment {text!r}: use all, district=NAME, interest=SLUG, group=4050, "
        "group=card, subscribers[=FAIR] or fair[=FAIR]",
        "unknown_segment",
        given=text.strip(),
    )


def audience_fair(session: Session, segment: Segment, fair: JobFair | None) -> JobFair | None:
    """The fair whose people the segment is: the one it names, else the broadcast's own."""
    if segment.fair_id is None:
        return fair
    named = session.get(JobFair, segment.fair_id)
    if named is None:
        raise BadSegment(
            f"segment {segment}: no job fair with id {segment.fair_id}",
            "no_fair",
            number=segment.fair_id,
        )
    return named


@dataclass(frozen=True)
class Recipient:
    """One seeker a broadcast reaches, through one of their contacts."""

    seeker_id: int
    contact_id: int
    channel: str
    address: str
    language: str


@dataclass
class LanguagePreview:
    """The message one language group gets, its SMS segments and how many get it."""

    language: str
    text: str
    segments: int
    recipients: int = 0


@dataclass
class Preview:
    """What a broadcast will do, before it does it."""

    segment: str
    kind: str
    send_at: datetime
    languages: dict[str, LanguagePreview] = field(default_factory=dict)
    channels: Counter[str] = field(default_factory=Counter)
    sms_segments: int = 0
    cost: float = 0.0

    @property
    def recipients(self) -> int:
        """Everyone it reaches."""
        return sum(self.channels.values())

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "segment": self.segment,
            "kind": self.kind,
            "send_at": self.send_at.isoformat(),
            "recipients": self.recipients,
            "languages": [vars(item) for item in self.languages.values()],
            "channels": dict(self.channels),
            "sms_segments": self.sms_segments,
            "estimated_cost": round(self.cost, 2),
        }


def aged_4050(today: date, women_age: int, men_age: int) -> ColumnElement[bool]:
    """The SQL condition for the "4050" group: women from women_age, men from men_age."""
    women = and_(Seeker.gender == "woman", Seeker.birth_year <= today.year - women_age)
    men = and_(Seeker.gender == "man", Seeker.birth_year <= today.year - men_age)
    return or_(women, men)


def seekers_in(segment: Segment, settings: NotifyConfig, today: date, fair: JobFair | None) -> Any:
    """The SQL condition for seekers in a segment (opted-out and test seekers never are)."""
    wanted: ColumnElement[bool] = Seeker.alerts.is_(True)
    if segment.kind == "district":
        wanted = and_(wanted, func.lower(Seeker.district) == segment.value.lower())
    elif segment.kind == "4050":
        wanted = and_(wanted, aged_4050(today, settings.loans.women_age, settings.loans.men_age))
    elif segment.kind == "card":
        wanted = and_(wanted, Seeker.concession_card.is_(True))
    elif segment.kind in ("subscribers", "fair"):
        if fair is None:
            raise BadSegment(f"segment {segment} needs a fair", "segment_needs_fair")
        joined = Seeker.id.in_(
            select(FairSubscription.seeker_id).where(FairSubscription.fair_id == fair.id)
        )
        nearby = (
            and_(wanted, Seeker.district == fair.district) if segment.kind == "fair" else false()
        )
        wanted = or_(joined, nearby)
    return and_(Seeker.opted_out.is_(False), Seeker.is_test.is_(False), wanted)


def recipients(
    session: Session,
    segment: Segment,
    settings: NotifyConfig,
    today: date,
    fair: JobFair | None = None,
) -> Iterator[list[Recipient]]:
    """Recipients in batches by seeker id, so a large segment is never all in memory."""
    condition = seekers_in(segment, settings, today, fair)
    after: int | None = 0
    while after is not None:
        batch, after = next_batch(session, condition, segment, after, settings.notify.batch_size)
        if batch:
            yield batch


def next_batch(
    session: Session, condition: Any, segment: Segment, after: int, size: int
) -> tuple[list[Recipient], int | None]:
    """The recipients among the next `size` seekers after id `after`, and where to go on."""
    rows = session.execute(
        select(Seeker.id, Seeker.language, Seeker.interests)
        .where(condition, Seeker.id > after)
        .order_by(Seeker.id)
        .limit(size)
    ).all()
    if not rows:
        return [], None
    last = rows[-1].id
    if segment.kind == "interest":
        rows = [row for row in rows if segment.value in (row.interests or [])]
    languages = {row.id: row.language for row in rows}
    contacts = session.execute(
        select(
            Contact.id,
            Contact.seeker_id,
            Contact.channel,
            Contact.address,
            Contact.last_inbound_at,
        ).where(
            Contact.seeker_id.in_(list(languages)),
            # A contact opted out on its own is passed over; the seeker's others still get it.
            Contact.stopped.is_(None),
        )
    ).all()
    best: dict[int, Any] = {}
    for contact in contacts:
        current = best.get(contact.seeker_id)
        if current is None or _rank(contact) > _rank(current):
            best[contact.seeker_id] = contact
    batch = [
        Recipient(seeker_id, c.id, c.channel, c.address, languages[seeker_id])
        for seeker_id, c in sorted(best.items())
    ]
    return batch, last


def _rank(contact: Any) -> tuple[float, int]:
    """The contact the seeker wrote from last, else the cheapest channel."""
    wrote = contact.last_inbound_at.timestamp() if contact.last_inbound_at else 0.0
    preference = (
        CHANNEL_PREFERENCE[::-1].index(contact.channel)
        if contact.channel in CHANNEL_PREFERENCE
        else -1
    )
    return wrote, preference


def fair_when(fair: JobFair, timezone: str, language: str = "en") -> str:
    """'Sat 20 Dec, 9:00' or '12月20日 周六 上午9点' in the office's timezone."""
    return date_and_time(fair.starts_at.astimezone(ZoneInfo(timezone)), language)


def message_text(
    broadcast: Broadcast, fair: JobFair | None, language: str, settings: NotifyConfig
) -> str:
    """The text one language group receives."""
    if fair is not None:
        key = "fair_reminder" if broadcast.kind == "reminder" else "fair_alert"
        text = render(
            key,
            language,
            fair_name=fair.name,
            fair_when=fair_when(fair, settings.notify.timezone, language),
            venue=fair.venue,
        )
    else:
        said = (broadcast.text or "").strip()
        if said and said[-1] not in ".!?。！？":
            said += "."  # the STOP line follows: keep them two sentences
        text = render("broadcast_text", language, text=said)
    return make_sms_safe(text)


def preview(session: Session, broadcast: Broadcast, settings: NotifyConfig) -> Preview:
    """Per-language texts with their SMS segments, recipients per channel, estimated cost."""
    fair = session.get(JobFair, broadcast.fair_id) if broadcast.fair_id else None
    result = Preview(str(broadcast.segment), broadcast.kind, broadcast.send_at)
    today = broadcast.send_at.astimezone(ZoneInfo(settings.notify.timezone)).date()
    segment = parse_segment(broadcast.segment)
    audience = audience_fair(session, segment, fair)
    for batch in recipients(session, segment, settings, today, audience):
        for person in batch:
            group = result.languages.get(person.language)
            if group is None:
                text = message_text(broadcast, fair, person.language, settings)
                group = LanguagePreview(person.language, text, segments(text))
                result.languages[person.language] = group
            group.recipients += 1
            result.channels[person.channel] += 1
            if person.channel == "sms":
                result.sms_segments += group.segments
    result.cost = result.sms_segments * settings.notify.price_per_segment
    return result


def create(
    session: Session,
    *,
    segment: Segment,
    fair_id: int | None = None,
    text: str | None = None,
    now: datetime,
    send_at: datetime | None = None,
    kind: str | None = None,
) -> Broadcast:
    """A broadcast row (status `queueing`); `queue` then writes its outbox rows."""
    if (fair_id is None) == (text is None):
        raise ValueError("a broadcast has either a fair or a text")
    if fair_id is not None and session.get(JobFair, fair_id) is None:
        raise ValueError(f"no job fair with id {fair_id}")
    broadcast = Broadcast(
        fair_id=fair_id,
        text=text,
        segment=str(segment),
        kind=kind or ("alert" if fair_id is not None else "announcement"),
        send_at=send_at or now,
        status="queueing",
        recipients=0,
        created_at=now,
    )
    session.add(broadcast)
    session.flush()
    return broadcast


def queue(
    sessions: sessionmaker[Session],
    broadcast_id: int,
    settings: NotifyConfig,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write one outbox row per recipient, a batch per transaction; safe to run again."""
    with sessions() as session:
        broadcast = session.get(Broadcast, broadcast_id)
        if broadcast is None:
            raise ValueError(f"no broadcast with id {broadcast_id}")
        fair = session.get(JobFair, broadcast.fair_id) if broadcast.fair_id else None
        session.expunge_all()
    kind = OUTBOX_KIND[broadcast.kind]
    not_before = quiet_hours(settings).hold(kind, broadcast.send_at)
    today = broadcast.send_at.astimezone(ZoneInfo(settings.notify.timezone)).date()
    texts: dict[str, tuple[str, int]] = {}
    segment = parse_segment(broadcast.segment)
    with sessions() as session:
        audience = audience_fair(session, segment, fair)
        session.expunge_all()
    condition = seekers_in(segment, settings, today, audience)
    total = 0
    after: int | None = 0
    while after is not None:
        # Each batch is read and written in its own short transaction (SQLite has one writer).
        with transaction(sessions) as session:
            size = settings.notify.batch_size
            batch, after = next_batch(session, condition, segment, after, size)
            rows = []
            for person in batch:
                if person.language not in texts:
                    text = message_text(broadcast, fair, person.language, settings)
                    texts[person.language] = (text, segments(text))
                text, count = texts[person.language]
                rows.append(
                    {
                        "contact_id": person.contact_id,
                        "channel": person.channel,
                        "address": person.address,
                        "text": text,
                        "buttons": ["1 I will come", "MENU"] if fair is not None else [],
                        "segments": count,
                        "kind": kind,
                        "priority": PRIORITY[kind],
                        "not_before": not_before,
                        "attempts": 0,
                        "status": OutboxStatus.QUEUED,
                        "idempotency_key": _key(broadcast, person),
                        "broadcast_id": broadcast.id,
                        "created_at": broadcast.created_at,
                    }
                )
            _insert_new(session, rows)
            if fair is not None:
                offer_rsvp(
                    session, [person.contact_id for person in batch], fair.id, broadcast.created_at
                )
        total += len(batch)
        if progress is not None and batch:
            progress(len(batch))
    with transaction(sessions) as session:
        session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id)
            .values(status="sending", recipients=total)
        )
    return total


# A broadcast is `queueing` while its rows are written, `sending` while any is queued or
# being sent, and `done` when every row is settled (sent, failed, skipped, unknown...).
OPEN_ROWS = ("queued", "sending")


def follow_rows(session: Session) -> None:
    """Move each written broadcast to `sending` or `done`, as its rows say."""
    rows_open = (
        select(OutboxMessage.id)
        .where(OutboxMessage.broadcast_id == Broadcast.id, OutboxMessage.status.in_(OPEN_ROWS))
        .exists()
    )
    session.execute(
        update(Broadcast).where(Broadcast.status == "sending", ~rows_open).values(status="done")
    )
    session.execute(
        update(Broadcast).where(Broadcast.status == "done", rows_open).values(status="sending")
    )


def status_of(broadcast: Broadcast, counts: dict[str, int]) -> str:
    """queueing, sending or done, from the broadcast and the counts of its rows by status."""
    if broadcast.status == "queueing":
        return "queueing"
    return "sending" if any(counts.get(status) for status in OPEN_ROWS) else "done"


def _key(broadcast: Broadcast, person: Recipient) -> str:
    if broadcast.kind == "reminder":
        return f"reminder:{broadcast.fair_id}:{person.seeker_id}"
    return f"broadcast:{broadcast.id}:{person.seeker_id}"


def _insert_new(session: Session, rows: list[dict[str, Any]], model: Any = OutboxMessage) -> None:
    """Insert rows, leaving out any that would repeat a unique key already there."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = pg_insert(model).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite_insert(model).on_conflict_do_nothing()
    else:
        statement = insert(model)
    session.execute(statement, rows)


def offer_rsvp(session: Session, contact_ids: list[int], fair_id: int, now: datetime) -> None:
    """After a fair alert, 1 or YES means 'I will come' (only where no flow is under way)."""
    if not contact_ids:
        return
    answers = State(offers=RSVP_OFFERS).stored()
    session.execute(
        update(Conversation)
        .where(Conversation.contact_id.in_(contact_ids), Conversation.flow.is_(None))
        .values(answers=answers, version=Conversation.version + 1)
    )
    have = set(
        session.scalars(
            select(Conversation.contact_id).where(Conversation.contact_id.in_(contact_ids))
        )
    )
    fresh = [
        {"contact_id": cid, "answers": answers, "misses": 0, "version": 1, "updated_at": now}
        for cid in contact_ids
        if cid not in have
    ]
    # A seeker texting right now may create their conversation first; theirs wins.
    _insert_new(session, fresh, Conversation)


def report(session: Session, broadcast_id: int) -> dict[str, Any]:
    """Counts of the broadcast's messages by status."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise ValueError(f"no broadcast with id {broadcast_id}")
    counts: dict[str, int] = {status.value: 0 for status in STATUSES}
    rows = session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.broadcast_id == broadcast_id)
        .group_by(OutboxMessage.status)
    ).all()
    for status, count in rows:
        counts[status] = int(count)
    return {
        "id": broadcast.id,
        "fair_id": broadcast.fair_id,
        "segment": broadcast.segment,
        "kind": broadcast.kind,
        "status": status_of(broadcast, counts),
        "recipients": broadcast.recipients,
        "counts": counts,
    }


def fair_counts(session: Session, fair_id: int) -> tuple[int, int]:
    """(subscribers, attending) for a fair."""
    mine = select(func.count()).where(FairSubscription.fair_id == fair_id)
    subscribers = session.scalar(mine) or 0
    attending = session.scalar(mine.where(FairSubscription.attending.is_(True))) or 0
    return int(subscribers), int(attending)


def unfinished(sessions: sessionmaker[Session], older_than: timedelta, now: datetime) -> list[int]:
    """Broadcasts still `queueing` long after they were created (their queueing stopped)."""
    with sessions() as session:
        return list(
            session.scalars(
                select(Broadcast.id).where(
                    Broadcast.status == "queueing", Broadcast.created_at < now - older_than
                )
            )
        )
