"""Overview, Handoffs and Seekers over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.database import Database
from caseworker.dashboard.figures import figures
from caseworker.tryit import new_test_seeker
from db.models import AuditEntry, Contact, Handoff, OutboxMessage, Seeker, utcnow
from db.session import transaction
from tests.dashboard.conftest import ask_for_a_person, form_token, signed_in
from tests.fakes.seekers import HAPPY_PATH

XSS = "<img src=x onerror=alert(1)>"


def test_overview_counts_registrations_handoffs_and_traffic(
    app: Starlette, client: TestClient, dashboard_database: Database
) -> None:
    jobline = app.state.runtime.jobline
    ask_for_a_person(jobline, "+8613800000001")
    ask_for_a_person(jobline, "+8613800000002", channel="console")
    with transaction(dashboard_database.sessions) as session:
        test = new_test_seeker(session, "en", utcnow())
        test.registered_at = utcnow()
    with dashboard_database.sessions() as session:
        found = figures(session, utcnow(), "Asia/Harbin")
    assert (found.registered, found.registered_this_week) == (2, 2)
    assert [(d.district, d.total) for d in found.districts] == [("Daoli", 2)]
    assert found.handoffs_waiting == 1 + 1
    assert found.oldest_wait is not None and found.oldest_wait < timedelta(minutes=5)
    assert len(found.days) == 30 and found.days[-1].registrations == 2
    texts = len(HAPPY_PATH) + 2  # registration, 9 for a person, then a question
    assert found.days[-1].messages_in == 2 * texts and found.days[-1].messages_out >= 2 * texts - 2
    assert sum(d.messages_in for d in found.days[:-1]) == 0
    with dashboard_database.sessions() as session:
        tomorrow = figures(session, utcnow() + timedelta(days=1), "Asia/Harbin")
        again = figures(session, utcnow() + timedelta(days=1), "Asia/Harbin")
    assert tomorrow.days[-2] == found.days[-1] and tomorrow.days[-1].registrations == 0
    assert again.days == tomorrow.days  # finished days are kept, today is counted again
    page = signed_in(client).get("/dashboard/")
    assert page.status_code == 200
    assert "Seekers registered" in page.text and "Daoli" in page.text
    assert page.text.count("<polyline") == 3 and "Handoffs waiting" in page.text


def test_answer_and_close_a_handoff(
    app: Starlette, client: TestClient, dashboard_database: Database
) -> None:
    ask_for_a_person(app.state.runtime.jobline, "+8613800000001", words=XSS)
    signed_in(client)
    listed = client.get("/dashboard/handoffs")
    assert "Wang Lei" in listed.text and XSS not in listed.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in listed.text
    assert "Wang Lei" in client.get("/dashboard/handoffs/waiting").text
    with dashboard_database.sessions() as session:
        seeker = session.scalar(select(Seeker).where(Seeker.phone == "+8613800000001"))
        assert seeker is not None
    page = client.get(f"/dashboard/handoffs/{seeker.id}")
    assert "Reply" in page.text and "English" in page.text
    token = form_token(client, f"/dashboard/handoffs/{seeker.id}")

    def caseworker_texts() -> list[str]:
        with dashboard_database.sessions() as session:
            query = select(OutboxMessage.text).where(OutboxMessage.kind == "caseworker")
            return list(session.scalars(query))

    empty = client.post(
        f"/dashboard/handoffs/{seeker.id}/reply", data={"reply": "  \n ", "csrf": token}
    )
    assert empty.status_code == 400
    assert "The reply is empty. Write something, then press Send." in empty.text
    assert caseworker_texts() == []
    sent = client.post(
        f"/dashboard/handoffs/{seeker.id}/reply",
        data={"reply": "Room 201, 88 Zhongshan Road.", "csrf": token},
    )
    assert sent.status_code == 303
    assert caseworker_texts() == ["Caseworker: Room 201, 88 Zhongshan Road."]
    closed = client.post(f"/dashboard/handoffs/{seeker.id}/close", data={"csrf": token})
    assert (
        closed.status_code == 303 and closed.headers["location"] == "/dashboard/handoffs?closed=1"
    )
    with dashboard_database.sessions() as session:
        assert session.scalar(select(Handoff.status)) == "closed"
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["handoff.reply", "handoff.close"]
    assert "Nobody is waiting" in client.get("/dashboard/handoffs").text
    again = client.post(
        f"/dashboard/handoffs/{seeker.id}/reply", data={"reply": "hello?", "csrf": token}
    )
    assert again.status_code == 400 and "This seeker is not waiting for a person now." in again.text
    assert client.get("/dashboard/handoffs/999999").status_code == 404


def add_seekers(database: Database, count: int) -> None:
    """Registered seekers straight into the database, alternating two districts."""
    with transaction(database.sessions) as session:
        for n in range(count):
            session.add(
                Seeker(
                    phone=f"+86139{n:08d}",
                    name=f"Seeker {n:03d}",
                    district="Daoli" if n % 2 else "Nangang",
                    interests=["cleaning"] if n % 3 == 0 else ["security"],
                    language="zh" if n % 2 else "en",
                    registered_at=utcnow(),
                )
            )
        session.add_all(
            [
                Seeker(phone="+8613700000001", name=XSS, district="Daoli", interests=[]),
                Seeker(phone="+8613700000002", name="=1+2", opted_out=True, interests=[]),
                Seeker(
                    phone="+8613700000003",
                    name="Zhao Min",
                    gender="woman",
                    birth_year=1980,
                    concession_card=True,
                    interests=["cooking"],
                ),
            ]
        )
        new_test_seeker(session, "en", utcnow())


def rows_on(page: str) -> int:
    return len(re.findall(r'<a href="/dashboard/seekers/\d+">', page))


def test_search_filter_and_page_through_seekers(
    client: TestClient, dashboard_database: Database
) -> None:
    add_seekers(dashboard_database, 120)
    signed_in(client)
    first = client.get("/dashboard/seekers")
    assert "123 seekers" in first.text and rows_on(first.text) == 50
    assert "Page 1 of 3" in first.text
    last = client.get("/dashboard/seekers?page=3")
    assert rows_on(last.text) == 23
    assert XSS not in first.text and "&lt;img src=x onerror=alert(1)&gt;" in first.text
    assert "1 seekers" in client.get("/dashboard/seekers?search=seeker+007").text
    assert "Seeker 007" in client.get("/dashboard/seekers?search=13900000007").text
    assert "60 seekers" in client.get("/dashboard/seekers?district=Daoli&search=seeker").text
    assert "40 seekers" in client.get("/dashboard/seekers?interest=cleaning").text
    assert "1 seekers" in client.get("/dashboard/seekers?opted_out=1").text
    assert "Zhao Min" in client.get("/dashboard/seekers?card=1&group_4050=1").text
    assert "0 seekers" in client.get("/dashboard/seekers?search=%25").text
    assert "Page 3 of 3" in client.get("/dashboard/seekers?page=99").text
    assert client.get("/dashboard/seekers?page=x").status_code == 200


def test_export_the_filtered_list_with_safe_cells(
    client: TestClient, dashboard_database: Database
) -> None:
    add_seekers(dashboard_database, 3)
    signed_in(client)
    answer = client.get("/dashboard/seekers/export.csv?search=%3D1")
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["name"], r["phone"]) for r in rows] == [("'=1+2", "+8613700000002")]
    everyone = list(csv.DictReader(io.StringIO(client.get("/dashboard/seekers/export.csv").text)))
    assert len(everyone) == 6  # the test seeker is left out


def test_a_seeker_page_shows_profile_applications_and_the_conversation(
    app: Starlette, client: TestClient, dashboard_database: Database
) -> None:
    ask_for_a_person(app.state.runtime.jobline, "+8613800000001", words=XSS)
    with dashboard_database.sessions() as session:
        seeker = session.scalar(select(Seeker).where(Seeker.phone == "+8613800000001"))
        assert seeker is not None
    page = signed_in(client).get(f"/dashboard/seekers/{seeker.id}")
    assert "Wang Lei" in page.text and "Daoli" in page.text and "cleaning, cooking" in page.text
    assert "You are registered" in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert XSS not in page.text
    assert client.get("/dashboard/seekers/424242").status_code == 404


def test_the_overview_leaves_out_a_test_seeker_waiting_for_a_person(
    app: Starlette, dashboard_database: Database
) -> None:
    jobline = app.state.runtime.jobline
    with transaction(dashboard_database.sessions) as session:
        pretend = new_test_seeker(session, "en", utcnow()).phone
    assert pretend is not None
    ask_for_a_person(jobline, pretend, channel="console")
    with dashboard_database.sessions() as session:
        assert figures(session, utcnow(), "Asia/Harbin").handoffs_waiting == 0
        assert session.scalar(select(Handoff.status)) == "open"  # it waits, but is not counted
    ask_for_a_person(jobline, "+8613800000001")
    with dashboard_database.sessions() as session:
        found = figures(session, utcnow(), "Asia/Harbin")
    assert found.handoffs_waiting == 1 and found.oldest_wait is not None


def test_a_wechat_seeker_and_a_stopped_number_show_on_their_pages(
    app: Starlette, client: TestClient, dashboard_database: Database
) -> None:
    jobline = app.state.runtime.jobline
    ask_for_a_person(jobline, "oWeChatOpenId0001", channel="wechat")
    ask_for_a_person(jobline, "+8613800000002")
    with transaction(dashboard_database.sessions) as session:
        texted = session.scalar(select(Contact).where(Contact.address == "+8613800000002"))
        assert texted is not None
        texted.stopped = "stop"
        ids = {c.channel: c.seeker_id for c in session.scalars(select(Contact))}
    signed_in(client)
    waiting = client.get("/dashboard/handoffs")
    assert waiting.status_code == 200 and "WeChat" in waiting.text
    wechat = client.get(f"/dashboard/seekers/{ids['wechat']}")
    assert wechat.status_code == 200 and "<dd>WeChat</dd>" in wechat.text
    stopped = client.get(f"/dashboard/seekers/{ids['sms']}")
    assert "<dd>SMS (sent STOP)</dd>" in stopped.text
