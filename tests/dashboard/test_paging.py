"""Long lists come a page at a time: waiting handoffs, a fair's people, each board column."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, text
from starlette.testclient import TestClient

from bot.database import Database
from db.models import Application, Contact, FairSubscription, Handoff, JobFair, JobPost, utcnow
from db.session import transaction
from tests.dashboard.conftest import signed_in
from tests.fakes.people import add_seekers

FIRST = 5000  # the seekers here are numbered from this, apart from any demo seekers


def rows(page: str, link: str) -> int:
    return len(re.findall(rf'<a href="/dashboard/{link}/\d+">', page))


def test_waiting_handoffs_come_50_a_page_oldest_first(
    client: TestClient, dashboard_database: Database
) -> None:
    add_seekers(dashboard_database.sessions, 55, first=FIRST)
    now = utcnow()
    with transaction(dashboard_database.sessions) as session:
        contacts = list(session.scalars(select(Contact).order_by(Contact.id)))[-55:]
        for minutes, contact in enumerate(contacts):
            opened = now - timedelta(minutes=100 - minutes)
            session.add(Handoff(contact_id=contact.id, reason="asked", opened_at=opened))
    signed_in(client)
    first = client.get("/dashboard/handoffs").text
    assert "55 waiting" in first and "Page 1 of 2" in first and rows(first, "handoffs") == 50
    assert first.index(f"Seeker {FIRST}<") < first.index(f"Seeker {FIRST + 49}<")
    second = client.get("/dashboard/handoffs/waiting?page=2").text
    assert rows(second, "handoffs") == 5 and f"Seeker {FIRST + 54}<" in second
    assert 'hx-get="/dashboard/handoffs/waiting?page=2"' in second  # polling stays on page 2
    assert rows(client.get("/dashboard/handoffs?page=99").text, "handoffs") == 5


def test_a_fairs_people_come_50_a_page(client: TestClient, dashboard_database: Database) -> None:
    add_seekers(dashboard_database.sessions, 60, first=FIRST)
    now = utcnow()
    with transaction(dashboard_database.sessions) as session:
        fair = JobFair(
            name="Big Fair", starts_at=now + timedelta(days=9), venue="Hall", district="Daoli"
        )
        session.add(fair)
        session.flush()
        fair_id = fair.id
        seekers = [c.seeker_id for c in session.scalars(select(Contact).order_by(Contact.id))][-60:]
        for number, seeker_id in enumerate(seekers):
            session.add(
                FairSubscription(
                    seeker_id=seeker_id, fair_id=fair_id, attending=number == 59, created_at=now
                )
            )
    signed_in(client)
    first = client.get(f"/dashboard/fairs/{fair_id}").text
    assert "Page 1 of 2" in first and rows(first, "seekers") == 50
    assert first.index(f"Seeker {FIRST + 59}<") < first.index(f"Seeker {FIRST}<")  # coming first
    second = client.get(f"/dashboard/fairs/{fair_id}?page=2").text
    assert "Page 2 of 2" in second and rows(second, "seekers") == 10


def test_each_board_column_pages_and_keeps_the_others(
    client: TestClient, dashboard_database: Database
) -> None:
    add_seekers(dashboard_database.sessions, 50, first=FIRST)
    now = utcnow()
    with transaction(dashboard_database.sessions) as session:
        post = session.scalars(select(JobPost)).first()
        assert post is not None
        seekers = [c.seeker_id for c in session.scalars(select(Contact).order_by(Contact.id))][-50:]
        for number, seeker_id in enumerate(seekers):
            session.add(
                Application(
                    reference=f"PG{number:04d}",
                    seeker_id=seeker_id,
                    job_id=post.id,
                    stage="seen" if number < 25 else "interview",
                    created_at=now,
                    stage_changed_at=now + timedelta(minutes=number),
                )
            )
    signed_in(client)
    board = client.get("/dashboard/applications").text
    assert "PG0024" in board and "PG0005" in board and "PG0004" not in board  # newest 20 seen
    assert 'href="?seen=2"' in board and "Page 1 of 2" in board
    moved = client.get("/dashboard/applications?seen=2&interview=1").text
    assert "PG0004" in moved and "PG0000" in moved and "PG0024" not in moved
    assert "PG0049" in moved and "PG0029" not in moved  # interview stays on its first page
    assert 'href="?seen=2&amp;interview=1"' not in moved  # page 1 is left out of links
    assert 'href="?seen=2&amp;interview=2"' in moved


def test_name_and_phone_search_have_trigram_indexes_on_postgresql(
    dashboard_database: Database,
) -> None:
    engine = dashboard_database.engine
    if engine.dialect.name != "postgresql":
        return  # SQLite searches with a plain LIKE
    with engine.connect() as connection:
        names = set(
            connection.scalars(
                text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
            )
        )
    assert {"ix_seekers_name_trgm", "ix_seekers_phone_trgm", "ix_job_posts_title_trgm"} <= names
