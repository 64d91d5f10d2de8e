"""Broadcasts as a caseworker makes them: choose who, check, preview, send (CLI and dashboard)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from caseworker.casework import CaseworkError
from db.models import Broadcast, JobFair
from db.session import transaction
from flows.catalogue import languages
from flows.local_names import local_name
from notify import broadcasts
from notify.config import NotifyConfig
from notify.quiet import quiet_hours
from notify.sms import segments
from reference import Reference

# A broadcast reaches thousands of people: each text may be at most this many SMS segments.
MAX_SEGMENTS = 3


class SegmentKind(StrEnum):
    """The kinds of "Send to" choice; the dashboard words each one in zh and en."""

    everyone = "everyone"
    district = "district"
    interest = "interest"
    group_4050 = "4050"
    card = "card"
    subscribers = "subscribers"
    audience = "audience"


@dataclass(frozen=True)
class SegmentChoice:
    """One entry of "Send to": the segment as the CLI writes it, and what to call it."""

    value: str
    kind: SegmentKind
    name: str = ""
    name_zh: str = ""


def segment_choices(session: Session, reference: Reference, now: datetime) -> list[SegmentChoice]:
    """Everyone, each place, each kind of work, 4050, card holders, each coming fair's people."""
    choices = [SegmentChoice("all", SegmentKind.everyone)]
    for place in reference.places:
        choices.append(
            SegmentChoice(
                f"district={place.name}",
                SegmentKind.district,
                place.name,
                local_name(place, "zh"),
            )
        )
    for category in reference.categories:
        choices.append(
            SegmentChoice(
                f"interest={category.slug}",
                SegmentKind.interest,
                category.name,
                local_name(category, "zh"),
            )
        )
    choices += [SegmentChoice("group=4050", SegmentKind.group_4050)]
    choices += [SegmentChoice("group=card", SegmentKind.card)]
    coming = session.scalars(
        select(JobFair).where(JobFair.starts_at > now).order_by(JobFair.starts_at)
    )
    for fair in coming:
        choices.append(
            SegmentChoice(f"subscribers={fair.id}", SegmentKind.subscribers, fair.name, fair.name)
        )
        choices.append(SegmentChoice(f"fair={fair.id}", SegmentKind.audience, fair.name, fair.name))
    return choices


@dataclass(frozen=True)
class Draft:
    """A checked broadcast, not yet sent: a free message or a fair, to a segment, at a time."""

    segment: broadcasts.Segment
    send_at: datetime
    text: str | None = None
    fair_id: int | None = None

    def as_row(self) -> Broadcast:
        """An unsaved Broadcast, for previews."""
        return Broadcast(
            fair_id=self.fair_id,
            text=self.text,
            segment=str(self.segment),
            kind="alert" if self.fair_id is not None else "announcement",
            send_at=self.send_at,
        )


def draft(
    session: Session,
    *,
    segment: str,
    send_at: datetime,
    settings: NotifyConfig,
    text: str | None = None,
    fair_id: int | None = None,
) -> Draft:
    """Check what a caseworker asked for; a CaseworkError says what to change."""
    if text is not None:
        text = text.strip()
    if (fair_id is None) == (not text):
        raise CaseworkError("Write a message or choose a fair (one of the two).", "message_or_fair")
    try:
        chosen = broadcasts.parse_segment(segment)
    except broadcasts.BadSegment as error:
        raise CaseworkError(str(error), error.key, **error.values) from None
    if text:
        _check_length(text, settings)
    for wanted in (fair_id, chosen.fair_id):
        if wanted is None:
            continue
        fair = session.get(JobFair, wanted)
        if fair is None:
            raise CaseworkError(f"No job fair with id {wanted}.", "no_fair", number=wanted)
        if fair.starts_at <= send_at:
            raise CaseworkError(
                f"Job fair {wanted} starts before the broadcast would go; nothing to announce.",
                "fair_started",
                name=fair.name,
            )
    if chosen.kind in ("subscribers", "fair") and fair_id is None and chosen.fair_id is None:
        raise CaseworkError(
            f"Send to {chosen}: say which fair, e.g. {chosen}=3.", "segment_needs_fair"
        )
    return Draft(chosen, send_at, text or None, fair_id)


def _check_length(text: str, settings: NotifyConfig) -> None:
    """Refuse a message longer than MAX_SEGMENTS texts in any language it goes out in."""
    row = Broadcast(text=text, kind="announcement")
    longest = max(
        segments(broadcasts.message_text(row, None, language, settings)) for language in languages()
    )
    if longest > MAX_SEGMENTS:
        raise CaseworkError(
            f"The message is {len(text)} characters: {longest} text messages for each person. "
            f"A broadcast may be at most {MAX_SEGMENTS} (about 400 letters or 180 Chinese "
            "characters). Shorten it.",
            "broadcast_long",
            length=len(text),
            count=longest,
            limit=MAX_SEGMENTS,
        )


@dataclass(frozen=True)
class BroadcastPreview:
    """The notify preview, and when the texts will really go out."""

    found: broadcasts.Preview
    goes_at: datetime

    @property
    def held(self) -> bool:
        """True when quiet hours hold the broadcast back."""
        return self.goes_at != self.found.send_at


def preview(session: Session, chosen: Draft, settings: NotifyConfig) -> BroadcastPreview:
    """Texts per language, SMS segments, recipients per channel, cost and send time."""
    try:
        found = broadcasts.preview(session, chosen.as_row(), settings)
    except broadcasts.BadSegment as error:
        raise CaseworkError(str(error), error.key, **error.values) from None
    goes_at = quiet_hours(settings).hold(broadcasts.OUTBOX_KIND[found.kind], found.send_at)
    return BroadcastPreview(found, goes_at)


def start(session: Session, chosen: Draft, now: datetime) -> Broadcast:
    """The broadcast row; `broadcasts.queue` then writes its texts (the caller's transaction)."""
    return broadcasts.create(
        session,
        segment=chosen.segment,
        fair_id=chosen.fair_id,
        text=chosen.text,
        send_at=chosen.send_at,
        now=now,
    )


def send(
    sessions: sessionmaker[Session],
    chosen: Draft,
    settings: NotifyConfig,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Create the broadcast and queue one text per recipient; returns its id."""
    with transaction(sessions) as session:
        broadcast_id = start(session, chosen, now).id
    broadcasts.queue(sessions, broadcast_id, settings, progress=progress)
    return broadcast_id


def recent(session: Session, limit: int = 20) -> list[Broadcast]:
    """The newest broadcasts first."""
    query = select(Broadcast).order_by(Broadcast.created_at.desc(), Broadcast.id.desc())
    return list(session.scalars(query.limit(limit)))
