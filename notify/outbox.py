"""The transactional outbox: every outbound text is a row written with what caused it.

Every change of an outbox row's status is made here: queueing, the dispatcher's results
(`write`), providers' delivery reports (`apply_report`, kept as an EarlyReport when it comes
before the send's provider id is stored, and applied when that id is written), cancelling on
STOP, and the console.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    String,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from db.fast import Fast, connection_of
from db.models import Contact, ContactStop, EarlyReport, OutboxMessage, OutboxStatus
from db.session import insert_new
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
# An early report whose message never gets its provider id (not ours) is dropped after this.
EARLY_REPORT_KEPT = timedelta(days=2)


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


# Built once: building a statement costs about as much as running it on SQLite.
NEW_ROW = insert(OutboxMessage).returning(OutboxMessage.id)
_NEW_ROW = Fast(NEW_ROW)
RELEASE_HELD = (
    update(OutboxMessage)
    .where(
        OutboxMessage.contact_id == bindparam("b_contact_id"),
        OutboxMessage.status == OutboxStatus.HELD,
    )
    .values(status=OutboxStatus.QUEUED, not_before=bindparam("b_now"))
)


@dataclass(frozen=True)
class NewReply:
    """One answer of a turn, before it is an outbox row."""

    text: str
    idempotency_key: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class QueuedReply:
    """An answer as its outbox row keeps it: the id and the SMS-safe text."""

    id: int
    text: str
    buttons: tuple[Button, ...]


def reply_rows(
    *,
    contact_id: int,
    channel: str,
    address: str,
    replies: Sequence[NewReply],
    now: datetime,
    sending_until: datetime | None = None,
) -> list[dict[str, Any]]:
    """The outbox rows of a turn's answers, in order.

    With `sending_until` they are claimed already for a send that starts at once: `sending`,
    one attempt, leased until then (the exactly-once rule of notify/dispatcher.py).
    """
    claimed = sending_until is not None
    rows = []
    for reply in replies:
        safe = make_sms_safe(reply.text)
        rows.append(
            {
                "contact_id": contact_id,
                "channel": channel,
                "address": address,
                "text": safe,
                "buttons": stored_buttons(reply.buttons),
                "segments": segments(safe),
                "kind": "reply",
                "priority": PRIORITY["reply"],
                "not_before": sending_until if claimed else now,
                "attempts": 1 if claimed else 0,
                "status": OutboxStatus.SENDING if claimed else OutboxStatus.QUEUED,
                "created_at": now,
                "idempotency_key": reply.idempotency_key,
            }
        )
    return rows


def queued_replies(
    rows: Sequence[Mapping[str, Any]], ids: Sequence[int], replies: Sequence[NewReply]
) -> list[QueuedReply]:
    """The answers as their rows were stored (`ids` in the order of the rows)."""
    return [
        QueuedReply(int(row_id), str(row["text"]), reply.buttons)
        for row_id, row, reply in zip(ids, rows, replies, strict=True)
    ]


def insert_replies(
    session: Session, rows: Sequence[Mapping[str, Any]], replies: Sequence[NewReply]
) -> list[QueuedReply]:
    """Insert a turn's answer rows (`reply_rows`) one by one, in order: SQLite's turn (it has
    no round trips; PostgreSQL's turn inserts them with its state, bot/turn_rows.finish)."""
    connection = connection_of(session)
    ids = [int(_NEW_ROW.run(connection, row).one()[0]) for row in rows]
    return queued_replies(rows, ids, replies)


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
    stop_contact: ContactStop | None = None  # why this contact gets nothing more
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


def write(
    session: Session,
    changes: Sequence[Change],
    now: datetime,
    sent: Sequence[tuple[int, str | None]] = (),
) -> None:
    """Write planned changes, one executemany per shape, and the rows the provider took (`sent`:
    outbox id, provider id) as `sent` with no error; only rows still `sending` change.

    A provider id written here may already have a delivery report waiting: it is applied.
    """
    table = OutboxMessage
    if sent:
        _write_sent(connection_of(session), sent, now)
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        values = change.values()
        shapes.setdefault(tuple(sorted(values)), []).append(
            {"b_id": change.id, **{f"b_{name}": value for name, value in values.items()}}
        )
    uncounted = [change.id for change in changes if change.uncount]
    if uncounted:
        session.execute(
            update(table)
            .where(table.id.in_(uncounted), table.status == OutboxStatus.SENDING)
            .values(attempts=table.attempts - 1)
        )
    for names, rows in shapes.items():
        if names:
            _change_of(names).run_many(session, rows)
    for why in ContactStop:
        stopped = [change.id for change in changes if change.stop_contact == why]
        if stopped:
            contacts = select(table.contact_id).where(table.id.in_(stopped))
            stop_contacts(session, contacts, why)
    with_ids = [provider_id for _, provider_id in sent if provider_id is not None]
    with_ids += [change.provider_id for change in changes if change.provider_id is not None]
    # Almost always no report came before its send was recorded: one look says so.
    if with_ids and _ANY_EARLY.run(session, {}).rows:
        apply_early_reports(session, now, with_ids)


# The UPDATE of each shape of change (the columns it sets), on the DB-API cursor: SQLAlchemy's
# executemany built each row's parameters at about twice the cost of the rest of recording.
_CHANGES: dict[tuple[str, ...], Fast] = {}
_ANY_EARLY = Fast(select(EarlyReport.provider_id).limit(1))


_STILL_SENDING = OutboxMessage.status == OutboxStatus.SENDING
# The rows the provider took, in one UPDATE over all of them: row by row (executemany) it cost
# 17 us a row on PostgreSQL (psycopg), and SQLite's driver gave up the GIL and took it back from
# the event loop once a row (17 us a row in bench/notify_dispatch.py, 10 this way).
_SENT_ARRAYS = (
    func.unnest(
        bindparam("b_ids", type_=ARRAY(Integer)), bindparam("b_provider_ids", type_=ARRAY(String))
    )
    .table_valued("id", "provider_id")
    .render_derived(name="sent")
)
_SENT_JSON = func.json_each(bindparam("b_sent", type_=String)).table_valued("value").alias("sent")


def _sent(
    row_id: ColumnElement[Any], provider_id: ColumnElement[Any], owned: ColumnElement[Any]
) -> Fast:
    """The UPDATE that marks rows still `sending` sent, with their provider ids."""
    values = {"provider_id": provider_id, "sent_at": bindparam("b_now"), "last_error": None}
    return Fast(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, owned)
        .values(status=OutboxStatus.SENT, **values)
    )


_SENT = {
    "postgresql": _sent(_SENT_ARRAYS.c.id, _SENT_ARRAYS.c.provider_id, _STILL_SENDING),
    # likely(): else SQLite walks the status index for the rows `sending` instead of the ids.
    "sqlite": _sent(
        func.json_extract(_SENT_JSON.c.value, "$[0]"),
        func.json_extract(_SENT_JSON.c.value, "$[1]"),
        func.likely(_STILL_SENDING),
    ),
}


def _write_sent(
    connection: Connection, sent: Sequence[tuple[int, str | None]], now: datetime
) -> None:
    """Mark these rows (outbox id, provider id) sent, the error cleared, if still `sending`."""
    if connection.dialect.name == "postgresql":
        given = {"b_ids": [i for i, _ in sent], "b_provider_ids": [p for _, p in sent]}
    else:
        given = {"b_sent": json.dumps(sent)}
    _SENT[connection.dialect.name].run(connection, {**given, "b_now": now})


def _change_of(names: tuple[str, ...]) -> Fast:
    """The UPDATE that sets these columns of a row still `sending`, by id."""
    found = _CHANGES.get(names)
    if found is None:
        owned = (OutboxMessage.id == bindparam("b_id")) & _STILL_SENDING
        values: dict[str, Any] = {name: bindparam(f"b_{name}") for name in names}
        found = _CHANGES[names] = Fast(update(OutboxMessage).where(owned).values(values))
    return found


# Who gets texts: the opt-out rule (README, "Opting out").
# - STOP typed on any channel (or passed on by the carrier: Twilio's OptOutType) is the
#   seeker's own word: the seeker gets nothing more on any channel, and that contact is
#   `stopped` (stop) as carriers require of that number.
# - START, UNSTOP or YES from a contact opts the seeker back in and clears that contact. A
#   number that said STOP stays stopped until it says START itself (the carrier keeps
#   blocking it: Twilio 21610), so START in Telegram does not restart texts to that phone.
# - A provider that says one contact is gone stops that contact only, never the seeker:
#   Telegram 403 (blocked, deactivated) and a WeChat unfollow mark it blocked; Twilio 21610
#   (the number said STOP to Twilio) marks it stop. The seeker's other channels still get
#   messages. A blocked contact that writes again is reachable again.
# - An opted-out seeker or a stopped contact gets only answers to its own words (the STOP
#   confirmation, HELP); a blocked contact gets nothing.


def opted_out(contact: Contact) -> bool:
    """Whether this contact gets only answers to its own words (the seeker's STOP, or its own)."""
    return only_answers(contact.seeker.opted_out, contact.stopped)


def only_answers(seeker_opted_out: bool | None, stopped: str | None) -> bool:
    """The rule of `opted_out`, from the seeker's opt-out and the contact's stop as read."""
    return bool(seeker_opted_out) or stopped is not None


def stop_contacts(session: Session, contact_ids: Any, why: ContactStop) -> None:
    """These contacts get nothing more (a STOP they said outranks a block the provider saw)."""
    keep = Contact.stopped.is_(None) | (Contact.stopped != ContactStop.STOP)
    session.execute(
        update(Contact).where(Contact.id.in_(contact_ids), keep).values(stopped=why.value)
    )


def cancel_queued(session: Session, seeker_id: int) -> None:
    """STOP: the seeker's queued (and held) rows are not sent."""
    contacts = select(Contact.id).where(Contact.seeker_id == seeker_id)
    waiting = OutboxMessage.status.in_((OutboxStatus.QUEUED, OutboxStatus.HELD))
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.contact_id.in_(contacts), waiting)
        .values(status=OutboxStatus.CANCELLED, last_error="opted out")
    )


def release_held(session: Session, contact_id: int, now: datetime) -> int:
    """The seeker wrote: what was kept for them (outside the channel's window) goes; a count."""
    # Core, not ORM: held rows are never loaded in a turn's session, and the ORM's matching of
    # loaded objects made this the costliest statement of a turn (bench/conversations.py).
    released = session.connection().execute(
        RELEASE_HELD, {"b_contact_id": contact_id, "b_now": now}
    )
    return int(released.rowcount)


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
    """Move the outbox row to its reported state; False when no row has that provider id yet
    (then the report is kept, and applied when the dispatcher writes that id)."""
    row = session.scalar(
        select(OutboxMessage).where(OutboxMessage.provider_id == report.provider_id).limit(1)
    )
    if row is None:
        keep_early(session, report, now)
        return False
    _move(session, row, report, now)
    return True


def _move(session: Session, row: OutboxMessage, report: DeliveryReport, now: datetime) -> None:
    """A report moves a row forward only: a late `sent` never undoes `delivered`."""
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
    if report.opted_out:  # Twilio 21610: this number said STOP; the seeker's other channels not
        stop_contacts(session, [row.contact_id], ContactStop.STOP)


def _later(report: DeliveryReport, kept: EarlyReport) -> bool:
    """Whether a report says more than the one kept (the same order `_move` follows)."""
    if kept.status == OutboxStatus.DELIVERED:
        return False
    if report.status in FINAL_FAILURES or report.status == OutboxStatus.DELIVERED:
        return True
    if kept.status in FINAL_FAILURES:
        return False
    return STATUS_RANK.get(report.status, -1) > STATUS_RANK.get(kept.status, -1)


def keep_early(session: Session, report: DeliveryReport, now: datetime) -> None:
    """Keep a report whose message has no provider id yet; the furthest state wins."""
    values = {
        "provider_id": report.provider_id,
        "status": report.status,
        "error": report.error,
        "opted_out": report.opted_out,
        "received_at": now,
    }
    if insert_new(session, EarlyReport, values, ["provider_id"]):
        return
    kept = session.get(EarlyReport, report.provider_id, with_for_update=True)
    if kept is None:  # applied meanwhile; that row has its id now
        apply_report(session, report, now)
        return
    if _later(report, kept):
        kept.status, kept.error = report.status, report.error
    kept.opted_out = kept.opted_out or report.opted_out


def apply_early_reports(
    session: Session, now: datetime, provider_ids: Sequence[str] | None = None
) -> int:
    """Apply kept reports whose message now has its provider id (these ids, or any); count."""
    query = select(EarlyReport, OutboxMessage).join(
        OutboxMessage, OutboxMessage.provider_id == EarlyReport.provider_id
    )
    if provider_ids is not None:
        query = query.where(EarlyReport.provider_id.in_(provider_ids))
    applied = 0
    for kept, row in session.execute(query.with_for_update(of=EarlyReport, skip_locked=True)):
        report = DeliveryReport(kept.provider_id, kept.status, kept.error, kept.opted_out)
        _move(session, row, report, now)
        session.delete(kept)
        applied += 1
    if provider_ids is None:
        session.execute(
            delete(EarlyReport).where(EarlyReport.received_at < now - EARLY_REPORT_KEPT)
        )
    session.flush()
    return applied
