"""The audit log: every change made from the dashboard, written by one helper."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from caseworker.dashboard.web import StaffView
from db.models import AuditEntry


def record(
    session: Session,
    staff: StaffView,
    action: str,
    subject: str,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write who changed what, when, and how it was before and after (same transaction)."""
    entry = AuditEntry(
        staff_id=staff.id,
        staff_email=staff.email,
        at=now,
        action=action,
        subject=subject[:200],
        before=before,
        after=after,
    )
    session.add(entry)
    session.flush()
    return entry


def latest(session: Session, limit: int, offset: int = 0) -> tuple[list[AuditEntry], int]:
    """A page of entries, newest first, and how many there are in all."""
    total = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    query = (
        select(AuditEntry)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query)), total
