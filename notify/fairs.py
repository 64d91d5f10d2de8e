"""Job fairs: add one, announce it to the seekers it concerns, remind them the day before."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Broadcast, JobFair
from db.problems import Problem
from db.session import REMINDING, one_at_a_time, transaction
from nlu.kinds import FAIR_PAYLOAD
from notify import broadcasts
from notify.config import NotifyConfig


def local_time(text: str, timezone: str) -> datetime:
    """'YYYY-MM-DD HH:MM' in the office's timezone, as an aware datetime."""
    try:
        naive = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise Problem(
            f"{text!r} is not a time like 2026-12-20 09:00", "bad_time", given=text.strip()
        ) from None
    return naive.replace(tzinfo=ZoneInfo(timezone))


def fair_link(bot_username: str, fair_id: int) -> str:
    """The link a poster's QR code holds: it opens the Telegram chat at that fair."""
    return f"https://t.me/{bot_username}?start={FAIR_PAYLOAD}{fair_id}"


def add_fair(
    session: Session,
    *,
    name: str,
    starts_at: datetime,
    venue: str,
    district: str,
    now: datetime,
) -> JobFair:
    """A new job fair."""
    fair = JobFair(name=name, starts_at=starts_at, venue=venue, district=district, created_at=now)
    session.add(fair)
    session.flush()
    return fair


def reminders_due(
    sessions: sessionmaker[Session], settings: NotifyConfig, now: datetime
) -> list[int]:
    """Queue a reminder for each fair that starts tomorrow (local date); safe to run often."""
    zone = ZoneInfo(settings.notify.timezone)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, datetime.min.time(), tzinfo=zone)
    queued: list[int] = []
    with transaction(sessions) as session:
        # Every process checks (jobline run's workers, jobline worker): one at a time, so the
        # second sees the first's reminder instead of making another.
        one_at_a_time(session, REMINDING)
        fairs = session.scalars(
            select(JobFair).where(
                JobFair.starts_at >= start, JobFair.starts_at < start + timedelta(days=1)
            )
        ).all()
        pending: list[int] = []
        for fair in fairs:
            earlier = session.scalar(
                select(Broadcast).where(Broadcast.fair_id == fair.id, Broadcast.kind == "reminder")
            )
            if earlier is not None:
                if earlier.status == "queueing":  # a run that stopped half-way: finish it
                    pending.append(earlier.id)
                continue
            reminder = broadcasts.create(
                session,
                segment=broadcasts.Segment("fair"),
                fair_id=fair.id,
                now=now,
                kind="reminder",
            )
            pending.append(reminder.id)
    for broadcast_id in pending:
        broadcasts.queue(sessions, broadcast_id, settings)
        queued.append(broadcast_id)
    return queued
