"""Messages whose fate is unknown (a crash mid-send, a channel that cannot be asked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import OutboxMessage
from db.phones import mask_phone


@dataclass(frozen=True)
class Unknown:
    """One message that may or may not have reached its seeker."""

    id: int
    broadcast_id: int | None
    channel: str
    address: str
    kind: str
    created_at: datetime
    reason: str


def unknown_rows(session: Session) -> list[Unknown]:
    """Every `unknown` row, oldest first, with its address masked."""
    query = (
        select(OutboxMessage).where(OutboxMessage.status == "unknown").order_by(OutboxMessage.id)
    )
    return [
        Unknown(
            row.id,
            row.broadcast_id,
            row.channel,
            mask_phone(row.address),
            row.kind,
            row.created_at,
            row.last_error or "",
        )
        for row in session.scalars(query)
    ]


def requeue_unknown(session: Session, now: datetime, broadcast_id: int | None = None) -> int:
    """Queue `unknown` rows to be sent again (one broadcast's, or all); how many."""
    query = update(OutboxMessage).where(OutboxMessage.status == "unknown")
    if broadcast_id is not None:
        query = query.where(OutboxMessage.broadcast_id == broadcast_id)
    result = session.execute(
        query.values(status="queued", not_before=now, last_error="requeued by a person")
    )
    return int(getattr(result, "rowcount", 0) or 0)
