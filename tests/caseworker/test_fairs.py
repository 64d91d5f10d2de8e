"""Fairs from the caseworker's side: add and change, refuse the past, who joined, the QR code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.database import Database
from caseworker.casework import CaseworkError
from caseworker.fairs import FairForm, fair_people, list_fairs, poster_qr_svg, save_fair
from db.models import FairSubscription, JobFair, Seeker
from db.session import transaction
from notify.fairs import fair_link
from reference import load_reference
from tests.fakes.people import add_seekers

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 10:00 in Harbin
HARBIN = "Asia/Harbin"
FORM = FairForm(
    name="Daoli Spring Fair", starts="2026-12-20 09:00", venue="Daoli Hall", district="daoli"
)


def save(database: Database, form: FairForm, fair_id: int | None = None) -> int:
    with transaction(database.sessions) as session:
        fair = save_fair(
            session, form, timezone=HARBIN, reference=load_reference(), now=NOW, fair_id=fair_id
        )
        return fair.id


def test_a_fair_is_added_then_changed(database: Database) -> None:
    fair_id = save(database, FORM)
    save(database, FairForm("Daoli Winter Fair", "2026-12-21T10:30", "Hall 2", "Nangang"), fair_id)
    with database.sessions() as session:
        fair = session.get(JobFair, fair_id)
        assert fair is not None
        assert (fair.name, fair.venue, fair.district) == ("Daoli Winter Fair", "Hall 2", "Nangang")
        assert fair.starts_at == datetime(2026, 12, 21, 2, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        (FairForm("Old Fair", "2026-12-01 09:00", "Hall", "Daoli"), "is in the past"),
        (FairForm("Now Fair", "2026-12-02 10:00", "Hall", "Daoli"), "is in the past"),
        (FairForm("Fair", "next week", "Hall", "Daoli"), "not a time like 2026-12-20 09:00"),
        (FairForm(" ", "2026-12-20 09:00", "Hall", "Daoli"), "The fair's name is empty"),
        (FairForm("Fair", "2026-12-20 09:00", "Hall", "Atlantis"), "Unknown district 'Atlantis'"),
    ],
)
def test_a_bad_fair_is_refused_and_nothing_stored(
    database: Database, form: FairForm, reason: str
) -> None:
    with database.sessions() as session:
        before = session.scalar(select(func.count()).select_from(JobFair))
    with pytest.raises(CaseworkError, match=reason):
        save(database, form)
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(JobFair)) == before


def test_subscribers_and_rsvps_leave_out_test_seekers(database: Database) -> None:
    fair_id = save(database, FORM)
    add_seekers(database.sessions, 4)
    with transaction(database.sessions) as session:
        seekers = list(session.scalars(select(Seeker).order_by(Seeker.id)))
        seekers[3].is_test = True  # says it will come, but is only a caseworker trying Jobline
        for number, seeker in enumerate(seekers):
            subscription = FairSubscription(
                seeker_id=seeker.id, fair_id=fair_id, attending=number % 2 == 1, created_at=NOW
            )
            session.add(subscription)
    with database.sessions() as session:
        row = next(r for r in list_fairs(session, HARBIN) if r.id == fair_id)
        people = fair_people(session, fair_id)
    assert (row.subscribers, row.attending, row.starts) == (3, 1, "Sun 20 Dec, 9:00")
    assert [(p.phone, p.attending) for p in people] == [
        ("+8613900000001", True),
        ("+8613900000000", False),
        ("+8613900000002", False),
    ]


def test_the_poster_qr_code_holds_the_deep_link() -> None:
    link = fair_link("jobline_test_bot", 7)
    assert link == "https://t.me/jobline_test_bot?start=fair_7"
    svg = poster_qr_svg(link)
    assert svg.startswith("<svg") and "<path" in svg and link in svg


def test_a_fairs_people_come_a_page_at_a_time_in_order(database: Database) -> None:
    fair_id = save(database, FORM)
    add_seekers(database.sessions, 7)
    with transaction(database.sessions) as session:
        seekers = list(session.scalars(select(Seeker).order_by(Seeker.id)))
        seekers[0].is_test = True
        for number, seeker in enumerate(seekers):
            joined = NOW + timedelta(minutes=10 - number)  # the later seekers joined earlier
            session.add(
                FairSubscription(
                    seeker_id=seeker.id, fair_id=fair_id, attending=number == 5, created_at=joined
                )
            )
    with database.sessions() as session:
        pages = [fair_people(session, fair_id, 2, offset) for offset in (0, 2, 4, 6)]
    phones = [[person.phone[-1:] for person in page if person.phone] for page in pages]
    assert phones == [["5", "6"], ["4", "3"], ["2", "1"], []]  # coming first; no test seeker
