"""The dispatcher's plan for send results and leftovers, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from db.models import ContactStop, OutboxStatus
from notify.channel import ContactSaidStop, Fail, Retry, SendResult, StopContact, Wait
from notify.dispatcher import Claimed, Outcome, Plan, Unclear, plan, plan_settle
from notify.outbox import Change

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def claimed(row_id: int, attempts: int = 1) -> Claimed:
    return Claimed(row_id, "sms", "+8613800000001", "hi", (), "reply", 0, attempts)


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    return timedelta(seconds=max(10.0 * attempts, retry_after or 0.0))


def test_a_sent_row_is_listed_and_each_other_result_becomes_one_change() -> None:
    outcomes = [
        Outcome(claimed(1), provider_id="SM1"),
        Outcome(claimed(2, attempts=2), error=Retry("429", retry_after=30.0)),
        Outcome(claimed(3, attempts=6), error=Retry("503")),
        Outcome(claimed(4), error=Fail("bad number")),
        Outcome(claimed(5), error=StopContact("blocked")),
        Outcome(claimed(6), error=Unclear("timeout")),
        Outcome(claimed(7), error=ContactSaidStop("21610")),
    ]
    assert plan(outcomes, NOW, 6, backoff) == Plan(
        sent=[(1, "SM1")],
        changes=[
            Change(2, OutboxStatus.QUEUED, error="429", not_before=NOW + timedelta(seconds=30)),
            Change(3, OutboxStatus.FAILED, error="503"),
            Change(4, OutboxStatus.FAILED, error="bad number"),
            Change(5, OutboxStatus.FAILED, error="blocked", stop_contact=ContactStop.BLOCKED),
            Change(6, error="timeout"),
            Change(7, OutboxStatus.FAILED, error="21610", stop_contact=ContactStop.STOP),
        ],
    )


def test_a_line_that_is_down_queues_the_row_again_without_counting_the_try() -> None:
    outcomes = [
        Outcome(claimed(1, attempts=6), error=Wait("phone off", retry_after=60.0)),
        Outcome(claimed(2, attempts=6), error=Wait("phone off", retry_after=0.0)),
    ]
    assert plan(outcomes, NOW, 6, backoff, pause=2.0).changes == [
        Change(
            1,
            OutboxStatus.QUEUED,
            "phone off",
            not_before=NOW + timedelta(seconds=60),
            uncount=True,
        ),
        Change(
            2, OutboxStatus.QUEUED, "phone off", not_before=NOW + timedelta(seconds=2), uncount=True
        ),
    ]


def test_an_unclear_send_only_notes_the_error() -> None:
    (change,) = plan([Outcome(claimed(6), error=Unclear("timeout"))], NOW, 6, backoff).changes
    assert change.values() == {"last_error": "timeout"}


def test_leftovers_are_sent_queued_again_or_unknown() -> None:
    found = {1: SendResult("SM1"), 2: None}
    assert plan_settle([1, 2, 3], found, NOW) == [
        Change(1, OutboxStatus.SENT, provider_id="SM1", sent_at=NOW),
        Change(2, OutboxStatus.QUEUED, not_before=NOW),
        Change(3, OutboxStatus.UNKNOWN, error="stopped during send; not resent"),
    ]
