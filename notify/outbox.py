"""The transactional outbox: every outbound text is a row written with what caused it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from db.models import Contact, OutboxMessage
from notify.sms import make_sms_safe, segments

# Lower numbers go first: a seeker who just wrote is answered before any broadcast.
PRIORITY = {"reply": 0, "caseworker": 0, "update": 1, "alert": 2, "reminder": 2, "broadcast": 3}


def queue(
    session: Session,
    *,
    contact: Contact,
    text: str,
    idempotency_key: str,
    now: datetime,
    kind: str = "reply",
    buttons: tuple[str, ...] = (),
    not_before: datetime | None = None,
    broadcast_id: int | None = None,
) -> OutboxMessage:
    """Add one outbound message to the session (the caller's transaction commits it)."""
    safe = make_sms_safe(text)
    row = OutboxMessage(
        contact_id=contact.id,
        channel=contact.channel,
        address=contact.address,
        text=safe,
        buttons=list(buttons),
        segments=segments(safe),
        kind=kind,
        priority=PRIORITY.get(kind, 3),
        not_before=not_before or now,
        created_at=now,
        idempotency_key=idempotency_key,
        broadcast_id=broadcast_id,
    )
    session.add(row)
    return row
