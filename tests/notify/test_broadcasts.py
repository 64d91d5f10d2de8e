"""Broadcasts: segments, preview, batched idempotent queueing, quiet hours, fair reminders."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from bot.database import Database
from bot.settings import Settings
from db.models import Broadcast, FairSubscription, JobFair, OutboxMessage, Seeker
from db.session import transaction
from notify import broadcasts
from notify.fairs import add_fair, reminders_due
from tests.fakes.people import add_seekers

HARBIN = ZoneInfo("Asia/Harbin")
MORNING = datetime(2026, 12, 2, 10, 0, tzinfo=HARBIN)


def people(database: Database) -> None:
    """10 in Daoli (cleaning), 5 in Nangang (security); one Daoli seeker said STOP."""
    add_seekers(database.sessions, 10, district="Daoli", interests=("cleaning",))
    add_seekers(database.sessions, 5, first=10, district="Nangang", interests=("security",))
    with transaction(database.sessions) as session:
        session.execute(
            update(Seeker).where(Seeker.phone == "+8613900000000").values(opted_out=True)
        )


def segment_size(
    database: Database, settings: Settings, text: str, fair: JobFair | None = None
) -> int:
    with database.sessions() as session:
        batches = broadcasts.recipients(
            session, broadcasts.parse_segment(text), settings, MORNING.date(), fair
        )
        return sum(len(batch) for batch in batches)


def test_segments_pick_the_right_seekers(database: Database, settings: Settings) -> None:
    people(database)
    add_seekers(database.sessions, 2, first=30, district="Hulan", interests=())
    assert segment_size(database, settings, "all") == 16  # the one who said STOP is left out
    assert segment_size(database, settings, "district=daoli") == 9
    assert segment_size(database, settings, "interest=security") == 5
    # add_seekers: odd numbers are women, even are men, born 1960 + n % 40: 30 and 31 are young.
    assert segment_size(database, settings, "group=4050") == 14
    assert segment_size(database, settings, "group=card") == 5  # 3, 6, 9, 12, 30 (0 said STOP)


def test_fair_segments_are_subscribers_and_nearby_seekers(
    database: Database, settings: Settings
) -> None:
    people(database)
    with transaction(database.sessions) as session:
        fair = add_fair(
            session,
            name="Nangang Fair",
            starts_at=MORNING,
            venue="Expo",
            district="Nangang",
            now=MORNING,
        )
        daoli = session.scalar(select(Seeker).where(Seeker.phone == "+8613900000001"))
        assert daoli is not None
        session.add(FairSubscription(seeker_id=daoli.id, fair_id=fair.id))
    assert segment_size(database, settings, "subscribers", fair) == 1
    assert segment_size(database, settings, "fair", fair) == 6
    with pytest.raises(broadcasts.BadSegment):
        segment_size(database, settings, "subscribers")
    with pytest.raises(broadcasts.BadSegment):
        broadcasts.parse_segment("group=young")


def test_preview_counts_languages_channels_and_cost(database: Database, settings: Settings) -> None:
    people(database)
    add_seekers(database.sessions, 3, first=100, channel="telegram")
    draft = Broadcast(
        text="The office is closed on Friday." * 6,
        segment="all",
        kind="announcement",
        send_at=MORNING,
    )
    with database.sessions() as session:
        found = broadcasts.preview(session, draft, settings)
    assert found.recipients == 17
    assert dict(found.channels) == {"sms": 14, "telegram": 3}
    english = found.languages["en"]
    assert english.segments == 2 and english.recipients == 17
    assert found.sms_segments == 28
    assert found.cost == pytest.approx(28 * settings.notify.price_per_segment)


def queue(database: Database, settings: Settings, segment: str, **options: object) -> int:
    with transaction(database.sessions) as session:
        created = broadcasts.create(
            session,
            segment=broadcasts.parse_segment(segment),
            now=MORNING,
            **options,  # type: ignore[arg-type]
        )
        broadcast_id = created.id
    broadcasts.queue(database.sessions, broadcast_id, settings)
    return broadcast_id


def test_queueing_is_batched_and_idempotent(database: Database, settings: Settings) -> None:
    add_seekers(database.sessions, 450)
    seen: list[int] = []
    broadcast_id = queue(database, settings, "all", text="Hello", send_at=MORNING)
    assert broadcasts.queue(database.sessions, broadcast_id, settings, progress=seen.append) == 450
    assert seen == [200, 200, 50]  # batch_size 200 in these tests
    with database.sessions() as session:
        rows = session.scalar(select(func.count()).select_from(OutboxMessage))
        report = broadcasts.report(session, broadcast_id)
    assert rows == 450
    assert report["counts"]["queued"] == 450 and report["status"] == "sending"


def test_a_broadcast_for_the_evening_waits_for_morning(
    database: Database, settings: Settings
) -> None:
    add_seekers(database.sessions, 2)
    evening = datetime(2026, 12, 2, 22, 30, tzinfo=HARBIN)
    queue(database, settings, "all", text="Hello", send_at=evening)
    with database.sessions() as session:
        due = set(session.scalars(select(OutboxMessage.not_before)))
    assert due == {datetime(2026, 12, 3, 8, 0, tzinfo=HARBIN).astimezone(UTC)}


def test_reminders_go_once_the_day_before(database: Database, settings: Settings) -> None:
    add_seekers(database.sessions, 4, district="Daoli")
    now = datetime(2026, 12, 2, 9, 0, tzinfo=HARBIN)
    with transaction(database.sessions) as session:
        fair = add_fair(
            session,
            name="Daoli Fair",
            starts_at=now + timedelta(days=1, hours=1),
            venue="Daoli Hall",
            district="Daoli",
            now=now,
        )
        later = add_fair(
            session,
            name="Later Fair",
            starts_at=now + timedelta(days=5),
            venue="Hall",
            district="Daoli",
            now=now,
        )
        fair_id, later_id = fair.id, later.id
    assert len(reminders_due(database.sessions, settings, now)) == 1
    assert reminders_due(database.sessions, settings, now + timedelta(hours=2)) == []
    with database.sessions() as session:
        rows = list(session.scalars(select(OutboxMessage)))
        kinds = {row.kind for row in rows}
        fairs = set(session.scalars(select(Broadcast.fair_id)))
    assert len(rows) == 4 and kinds == {"reminder"}
    assert fairs == {fair_id} and later_id not in fairs
    assert rows[0].text.startswith("Job fair tomorrow: Daoli Fair, Thu 3 Dec, 10:00, Daoli Hall.")


def test_an_interrupted_broadcast_is_found_and_finished(
    database: Database, settings: Settings
) -> None:
    add_seekers(database.sessions, 3)
    with transaction(database.sessions) as session:
        stalled = broadcasts.create(
            session, segment=broadcasts.Segment("all"), text="Hi", now=MORNING - timedelta(hours=1)
        )
        fresh = broadcasts.create(
            session, segment=broadcasts.Segment("all"), text="Hello", now=MORNING
        )
        stalled_id, fresh_id = stalled.id, fresh.id
    assert broadcasts.unfinished(database.sessions, timedelta(minutes=15), MORNING) == [stalled_id]
    broadcasts.queue(database.sessions, stalled_id, settings)
    assert broadcasts.unfinished(database.sessions, timedelta(minutes=15), MORNING) == []
    assert fresh_id != stalled_id


def test_processes_checking_reminders_at_once_make_one_reminder(
    database: Database, settings: Settings
) -> None:
    add_seekers(database.sessions, 4, district="Daoli")
    now = datetime(2026, 12, 2, 9, 0, tzinfo=HARBIN)
    with transaction(database.sessions) as session:
        add_fair(
            session,
            name="Daoli Fair",
            starts_at=now + timedelta(days=1, hours=1),
            venue="Daoli Hall",
            district="Daoli",
            now=now,
        )
    # Every app process and worker checks when it starts (jobline run --workers starts several).
    start = threading.Barrier(6)

    def check() -> list[int]:
        start.wait()
        return reminders_due(database.sessions, settings, now)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda _: check(), range(6)))
    with database.sessions() as session:
        reminders = session.scalar(select(func.count()).select_from(Broadcast))
        sent = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert reminders == 1
    assert sent == 4
