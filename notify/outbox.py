"""The transactional outbox: every outbound text is a row written with what caused it.

Every change of an outbox row's status is made here: queueing, the dispatcher's results
(`write`), providers' delivery reports (`apply_report`), cancelling on STOP, and the console.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from db.models import Contact, OutboxMessage, OutboxStatus, Seeker
from flows.types import Asks, Button
from notify.sms import make_sms_safe, segments

# Lower numbers go first: a seeker who just wrote is answered before any broadcast.
PRIORITY = {"reply": 0, "caseworker": 0, "update": 1, "alert": 2, "reminder": 2, "broadcast": 3}
# Delivery states in the order they happen; a late report never moves a row backwards.
STATUS_RANK: dict[str, int] = {
    OutboxStatus.QUEUED: 0,
    OutboxStatus.SENDING: 1,
    OutboxStatus.SENT: 2,
    OutboxStatus.DELIVERED: 3,
}
FINAL_FAILURES: set[str] = {OutboxStatus.UNDELIVERED, OutboxStatus.FAILED}


def stored_buttons(buttons: Sequence[Button]) -> list[Any]:
    """Buttons as the outbox row keeps them: a label, or {label, asks} for a share button."""
    return [
        button.label if button.asks is None else {"label": button.label, "asks": button.asks}
        for button in buttons
    ]


def buttons_of(stored: Sequence[Any]) -> tuple[Button, ...]:
    """The Buttons an outbox row keeps."""
    return tuple(
        Button(item) if isinstance(item, str) else Button(item["label"], Asks(item["asks"]))
        for item in stored
    )


def queue(
    session: Session,
    *,
    contact: Contact,
    text: str,
    idempotency_key: str,
    now: datetime,
    kind: str = "reply",
    buttons: tuple[Button, ...] = (),
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
        buttons=stored_buttons(buttons),
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


@dataclass(frozen=True)
class Change:
    """What happens to one row still `sending`: a new status and the columns that go with it."""

    id: int
    status: OutboxStatus | None = None  # None: the status stays (only the error is noted)
    error: str | None = None
    clear_error: bool = False
    provider_id: str | None = None
    sent_at: datetime | None = None
    not_before: datetime | None = None
    stop_contact: bool = False
    uncount: bool = False  # the try did not count (the line was down, not the message)

    def values(self) -> dict[str, Any]:
        """The columns this change sets."""
        values: dict[str, Any] = {}
        if self.status is not None:
            values["status"] = self.status
        if self.provider_id is not None:
            values["provider_id"] = self.provider_id
        if self.sent_at is not None:
            values["sent_at"] = self.sent_at
        if self.not_before is not None:
            values["not_before"] = self.not_before
        if self.error is not None or self.clear_error:
            values["last_error"] = self.error
        return values


def write(session: Session, changes: Sequence[Change]) -> None:
    """Write planned changes, one statement per shape; only rows still `sending` change."""
    table = OutboxMessage
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        values = change.values()
        shapes.setdefault(tuple(sorted(values)), []).append(
            {"b_id": change.id, **{f"b_{name}": value for name, value in values.items()}}
        )
    owned = (table.id == bindparam("b_id")) & (table.status == OutboxStatus.SENDING)
    connection = session.connection()
    uncounted = [change.id for change in changes if change.uncount]
    if uncounted:
        session.execute(
            update(table)
            .where(table.id.in_(uncounted), table.status == OutboxStatus.SENDING)
            .values(attempts=table.attempts - 1)
        )
    for names, rows in shapes.items():
        if not names:
            continue
        # A value every row shares (the status, the time) is bound once, not once per row.
        shared = {name: rows[0][f"b_{name}"] for name in names}
        for row in rows[1:]:
            for name in [n for n in shared if row[f"b_{n}"] != shared[n]]:
                del shared[name]
        per_row = [name for name in names if name not in shared]
        values = {name: bindparam(f"b_{name}") for name in per_row}
        statement = update(table).where(owned).values(values).values(shared)
        keys = ["b_id", *(f"b_{name}" for name in per_row)]
        connection.execute(statement, [{key: row[key] for key in keys} for row in rows])
    stopped = [change.id for change in changes if change.stop_contact]
    if stopped:
        contacts = select(table.contact_id).where(table.id.in_(stopped))
        seekers = select(Contact.seeker_id).where(Contact.id.in_(contacts))
        session.execute(update(Seeker).where(Seeker.id.in_(seekers)).values(opted_out=True))


def cancel_queued(session: Session, seeker_id: int) -> None:
    """STOP: the seeker's queued (and held) rows are not sent."""
    contacts = select(Contact.id).where(Contact.seeker_id == seeker_id)
    waiting = OutboxMessage.status.in_((OutboxStatus.QUEUED, OutboxStatus.HELD))
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.contact_id.in_(contacts), waiting)
        .values(status=OutboxStatus.CANCELLED, last_error="opted out")
    )


def release_held(session: Session, contact_id: int, now: datetime) -> None:
    """The seeker wrote: what was kept for them (outside the channel's window) goes now."""
    # Core, not ORM: held rows are never loaded in a turn's session, and the ORM's matching of
    # loaded objects made this the costliest statement of a turn (bench/conversations.py).
    session.connection().execute(
        update(OutboxMessage)
        .where(OutboxMessage.contact_id == contact_id, OutboxMessage.status == OutboxStatus.HELD)
        .values(status=OutboxStatus.QUEUED, not_before=now)
    )


def delivered_here(row: OutboxMessage, now: datetime) -> None:
    """A row shown on the spot (the console): delivered at once."""
    row.status = OutboxStatus.DELIVERED
    row.sent_at = now
    row.attempts += 1
    row.provider_id = f"console-{row.id}"


@dataclass(frozen=True)
class DeliveryReport:
    """A provider's word on a message it took: its state, why it failed, whether to stop."""

    provider_id: str
    status: str
    error: str
    opted_out: bool = False


def apply_report(session: Session, report: DeliveryReport, now: datetime) -> bool:
    """Move the outbox row to its reported state; False when no row has that provider id."""
    row = session.scalar(
        select(OutboxMessage).where(OutboxMessage.provider_id == report.provider_id).limit(1)
    )
    if row is None:
        return False
    if report.status in FINAL_FAILURES:
        if row.status != OutboxStatus.DELIVERED:
            row.status = report.status
            row.last_error = report.error
    elif report.status in STATUS_RANK:
        known = STATUS_RANK.get(row.status)
        if known is not None and STATUS_RANK[report.status] > known:
            row.status = report.status
            if report.status in (OutboxStatus.SENT, OutboxStatus.DELIVERED) and row.sent_at is None:
                row.sent_at = now
    if report.opted_out:
        contact = session.get(Contact, row.contact_id)
        if contact is not None:
            contact.seeker.opted_out = True
    return True
