"""The Overview's figures: seekers, applications, handoffs, broadcasts, 30 days of traffic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from caseworker.broadcasting import recent
from caseworker.casework import real_contact, stage_totals
from db.models import Broadcast, Handoff, Message, OutboxMessage, Seeker
from flows.views import STAGES
from notify.broadcasts import STATUSES

DAYS = 30
LAST_BROADCASTS = 5
REAL = Seeker.is_test.is_(False)


@dataclass(frozen=True)
class DistrictCount:
    """Registered seekers of one district: in all and this week."""

    district: str
    total: int
    this_week: int


@dataclass(frozen=True)
class Funnel:
    """One broadcast and how far its texts got."""

    id: int
    segment: str
    created_at: datetime
    queued: int
    sent: int
    delivered: int
    failed: int
    opted_out: int


@dataclass(frozen=True)
class Day:
    """One day's registrations and messages in and out."""

    day: date
    registrations: int
    messages_in: int
    messages_out: int


@dataclass(frozen=True)
class Figures:
    """Everything the Overview shows."""

    registered: int
    registered_this_week: int
    districts: list[DistrictCount]
    stages: list[tuple[str, int]]
    handoffs_waiting: int
    oldest_wait: timedelta | None
    broadcasts: list[Funnel]
    days: list[Day]


def week_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Monday 00:00 of this week, in the office's time zone."""
    local = now.astimezone(zone).date()
    return datetime.combine(local - timedelta(days=local.weekday()), time(), zone)


def _districts(session: Session, since: datetime) -> list[DistrictCount]:
    this_week = func.sum(case((Seeker.registered_at >= since, 1), else_=0))
    rows = session.execute(
        select(Seeker.district, func.count(), this_week)
        .where(REAL, Seeker.registered_at.is_not(None))
        .group_by(Seeker.district)
        .order_by(func.count().desc(), Seeker.district)
    ).all()
    return [DistrictCount(d or "-", int(total), int(week or 0)) for d, total, week in rows]


def _stages(session: Session) -> list[tuple[str, int]]:
    counts = stage_totals(session)
    return [(stage, counts.get(stage, 0)) for stage in STAGES]


def _funnels(session: Session, shown: list[Broadcast]) -> list[Funnel]:
    """The broadcasts' texts by status, in one query for all of them."""
    counts = {b.id: {status.value: 0 for status in STATUSES} for b in shown}
    rows = session.execute(
        select(OutboxMessage.broadcast_id, OutboxMessage.status, func.count())
        .where(OutboxMessage.broadcast_id.in_(list(counts)))
        .group_by(OutboxMessage.broadcast_id, OutboxMessage.status)
    ).all()
    for broadcast_id, status, count in rows:
        if broadcast_id is not None:
            counts[broadcast_id][status] = int(count)
    return [_funnel(broadcast, counts[broadcast.id]) for broadcast in shown]


def _funnel(broadcast: Broadcast, counts: dict[str, int]) -> Funnel:
    return Funnel(
        id=broadcast.id,
        segment=broadcast.segment,
        created_at=broadcast.created_at,
        queued=sum(counts.values()),
        sent=counts["sent"] + counts["delivered"] + counts["undelivered"],
        delivered=counts["delivered"],
        failed=counts["failed"] + counts["undelivered"],
        opted_out=counts["skipped_opted_out"],
    )


def _per_day(session: Session, column: Any, starts: list[datetime], *where: Any) -> list[int]:
    """How many rows fall on each day (starts[i] to starts[i+1]); one query, one range scan."""
    bucket = case(*[(column < start, i - 1) for i, start in enumerate(starts[1:], 1)])
    rows = session.execute(
        select(bucket, func.count())
        .where(column >= starts[0], column < starts[-1], *where)
        .group_by(bucket)
    ).all()
    counts = [0] * (len(starts) - 1)
    for index, count in rows:
        counts[int(index)] = int(count)
    return counts


# Finished days never change (every row is stamped with the time it was written), so their
# counts are kept per database and time zone; only today's are counted on each view.
_finished: dict[tuple[str, str], dict[date, Day]] = {}


def _count_days(session: Session, starts: list[datetime]) -> list[tuple[int, int, int]]:
    registrations = _per_day(session, Seeker.registered_at, starts, REAL)
    messages_in = _per_day(session, Message.created_at, starts, Message.direction == "in")
    messages_out = _per_day(session, OutboxMessage.created_at, starts)
    return list(zip(registrations, messages_in, messages_out, strict=True))


def _days(session: Session, now: datetime, zone: ZoneInfo) -> list[Day]:
    today = now.astimezone(zone).date()
    first = today - timedelta(days=DAYS - 1)
    known = _finished.setdefault((str(session.get_bind().engine.url), zone.key), {})
    for day in [d for d in known if d < first or d >= today]:
        del known[day]
    finished = [first + timedelta(days=i) for i in range(DAYS - 1)]
    gap = next((day for day in finished if day not in known), None)
    if gap is not None:
        starts = [
            datetime.combine(gap + timedelta(days=i), time(), zone)
            for i in range((today - gap).days + 1)
        ]
        for offset, counts in enumerate(_count_days(session, starts)):
            day = gap + timedelta(days=offset)
            known[day] = Day(day, *counts)
    midnight = datetime.combine(today, time(), zone)
    (counts,) = _count_days(session, [midnight, midnight + timedelta(days=1)])
    return [known[day] for day in finished] + [Day(today, *counts)]


def figures(session: Session, now: datetime, timezone: str) -> Figures:
    """Read every figure of the Overview."""
    zone = ZoneInfo(timezone)
    districts = _districts(session, week_start(now, zone))
    waiting, oldest = session.execute(
        select(func.count(), func.min(Handoff.opened_at)).where(
            Handoff.status == "open", real_contact(Handoff.contact_id)
        )
    ).one()
    return Figures(
        registered=sum(d.total for d in districts),
        registered_this_week=sum(d.this_week for d in districts),
        districts=districts,
        stages=_stages(session),
        handoffs_waiting=int(waiting or 0),
        oldest_wait=now - oldest if oldest is not None else None,
        broadcasts=_funnels(session, recent(session, LAST_BROADCASTS)),
        days=_days(session, now, zone),
    )
