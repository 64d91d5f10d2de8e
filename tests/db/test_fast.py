"""Fast.run_many: one statement over many parameter sets, each value processed for its column."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, select, update

from bot.database import Database
from db.fast import Fast
from db.models import Contact, OutboxMessage, OutboxStatus
from db.session import lightly, transaction
from notify import outbox
from tests.fakes.people import add_seekers

MOVE = Fast(
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("b_id"), OutboxMessage.status == OutboxStatus.QUEUED)
    .values(status=bindparam("b_status"), not_before=bindparam("b_when"))
)


def test_run_many_changes_each_row_with_its_own_and_shared_values(database: Database) -> None:
    add_seekers(database.sessions, 3)
    now = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    with transaction(database.sessions) as session:
        contact = session.scalars(select(Contact).order_by(Contact.id)).first()
        assert contact is not None
        rows = [
            outbox.queue(session, contact=contact, text=f"t{n}", idempotency_key=f"k{n}", now=now)
            for n in range(4)
        ]
        session.flush()
        ids = [row.id for row in rows]
    later = now + timedelta(hours=1)  # one object for three rows: processed once, bound thrice
    other = now + timedelta(hours=2)
    given = [
        {"b_id": ids[0], "b_status": OutboxStatus.SENDING, "b_when": later},
        {"b_id": ids[1], "b_status": OutboxStatus.SENDING, "b_when": later},
        {"b_id": ids[2], "b_status": OutboxStatus.FAILED, "b_when": other},
        {"b_id": ids[3], "b_status": OutboxStatus.SENDING, "b_when": later},
    ]
    with lightly(database.sessions) as session:
        changed = MOVE.run_many(session, given[:3])
        # Only rows still queued change: a second run over the same rows changes none of them.
        again = MOVE.run_many(session, given[:1])
    assert changed == 3 and again == 0
    with database.sessions() as session:
        found = {
            row.id: (row.status, row.not_before)
            for row in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))
        }
    assert found[ids[0]] == (OutboxStatus.SENDING, later)
    assert found[ids[1]] == (OutboxStatus.SENDING, later)
    assert found[ids[2]] == (OutboxStatus.FAILED, other)
    assert found[ids[3]] == (OutboxStatus.QUEUED, now)  # not given: untouched


def test_run_many_with_no_rows_runs_nothing(database: Database) -> None:
    with lightly(database.sessions) as session:
        assert MOVE.run_many(session, []) == 0
