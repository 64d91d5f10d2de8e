"""Delivery reports that come before their send's provider id is stored are kept, then applied."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.database import Database
from db.models import Contact, ContactStop, EarlyReport, OutboxMessage, OutboxStatus
from db.session import transaction
from notify import outbox
from tests.fakes.people import DaytimeClock, add_seekers, phone

SID = "SM" + "e" * 32


def sending_row(database: Database, clock: DaytimeClock) -> int:
    """One outbox row a dispatcher has claimed (`sending`), its provider id not yet stored."""
    add_seekers(database.sessions, 1)
    with transaction(database.sessions) as session:
        contact = session.scalar(select(Contact).where(Contact.address == phone(0)))
        assert contact is not None
        row = outbox.queue(session, contact=contact, text="hi", idempotency_key="k", now=clock())
        row.status = OutboxStatus.SENDING
        session.flush()
        return row.id


def report(database: Database, clock: DaytimeClock, status: str, code: str = "") -> bool:
    """A status callback as Twilio sends it (21610 is 'this number said STOP')."""
    said = outbox.DeliveryReport(SID, status, f"twilio error {code or 'unknown'}", code == "21610")
    with transaction(database.sessions) as session:
        return outbox.apply_report(session, said, clock())


def record_sent(database: Database, clock: DaytimeClock, row_id: int) -> None:
    """The dispatcher records the send: `sent`, with the provider's id."""
    with transaction(database.sessions) as session:
        outbox.write(session, [], clock(), sent=[(row_id, SID)])


def record_found(database: Database, clock: DaytimeClock, row_id: int) -> None:
    """Reconciling finds the provider has the message: a change to `sent`, with its id."""
    change = outbox.Change(row_id, OutboxStatus.SENT, provider_id=SID, sent_at=clock())
    with transaction(database.sessions) as session:
        outbox.write(session, [change], clock())


def row_and_kept(database: Database, row_id: int) -> tuple[OutboxMessage, int]:
    with database.sessions() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        kept = session.scalar(select(func.count()).select_from(EarlyReport)) or 0
        return row, kept


# callbacks that arrive before the send is recorded -> the row's status afterwards
EARLY_CASES = [
    (["delivered"], "delivered"),
    (["sent", "delivered"], "delivered"),
    (["delivered", "sent"], "delivered"),
    (["queued", "sending"], "sent"),
    (["undelivered"], "undelivered"),
    (["sent", "failed"], "failed"),
    (["delivered", "failed"], "delivered"),
    (["failed", "sent"], "failed"),
    (["read"], "sent"),
]


@pytest.mark.parametrize(("callbacks", "final"), EARLY_CASES)
def test_early_callbacks_are_applied_when_the_send_is_recorded(
    database: Database, daytime: DaytimeClock, callbacks: list[str], final: str
) -> None:
    row_id = sending_row(database, daytime)
    for status in callbacks:
        assert report(database, daytime, status) is False  # no row has that id yet
    assert row_and_kept(database, row_id)[1] == 1  # kept, one per message
    record_sent(database, daytime, row_id)
    row, kept = row_and_kept(database, row_id)
    assert (row.status, row.provider_id, kept) == (final, SID, 0)


def test_an_early_callback_is_applied_when_reconciling_finds_the_send(
    database: Database, daytime: DaytimeClock
) -> None:
    row_id = sending_row(database, daytime)
    report(database, daytime, "delivered")
    record_found(database, daytime, row_id)
    row, kept = row_and_kept(database, row_id)
    assert (row.status, row.provider_id, kept) == ("delivered", SID, 0)


@pytest.mark.parametrize("record", [record_sent, record_found])
def test_a_result_changes_only_a_row_still_sending(
    database: Database, daytime: DaytimeClock, record: Callable[..., None]
) -> None:
    row_id = sending_row(database, daytime)
    with transaction(database.sessions) as session:  # settled meanwhile (reconciled: unknown)
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(status=OutboxStatus.UNKNOWN)
        )
    record(database, daytime, row_id)
    row, _ = row_and_kept(database, row_id)
    assert (row.status, row.provider_id, row.sent_at) == (OutboxStatus.UNKNOWN, None, None)


def test_an_early_21610_stops_that_number_only(database: Database, daytime: DaytimeClock) -> None:
    row_id = sending_row(database, daytime)
    report(database, daytime, "failed", code="21610")
    record_sent(database, daytime, row_id)
    row, _ = row_and_kept(database, row_id)
    assert row.status == "failed" and row.last_error == "twilio error 21610"
    with database.sessions() as session:
        contact = session.scalar(select(Contact).where(Contact.address == phone(0)))
        assert contact is not None
        assert contact.stopped == ContactStop.STOP and not contact.seeker.opted_out


def test_a_report_kept_while_another_process_recorded_the_id_is_swept_up(
    database: Database, daytime: DaytimeClock
) -> None:
    row_id = sending_row(database, daytime)
    report(database, daytime, "delivered")
    # The send was recorded in a transaction that could not yet see the kept report.
    with transaction(database.sessions) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(status=OutboxStatus.SENT, provider_id=SID)
        )
    with transaction(database.sessions) as session:
        assert outbox.apply_early_reports(session, daytime()) == 1
    row, kept = row_and_kept(database, row_id)
    assert (row.status, kept) == ("delivered", 0)


def test_a_report_for_no_message_of_ours_is_dropped_after_two_days(
    database: Database, daytime: DaytimeClock
) -> None:
    report(database, daytime, "delivered")
    with transaction(database.sessions) as session:
        assert outbox.apply_early_reports(session, daytime() + timedelta(days=1)) == 0
        assert session.get(EarlyReport, SID) is not None
    with transaction(database.sessions) as session:
        outbox.apply_early_reports(session, daytime() + timedelta(days=3))
        assert session.get(EarlyReport, SID) is None
