"""Jobs, Applications, Fairs, Broadcasts and Try it over HTTP: each change, each refusal."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.database import Database, open_database
from bot.runtime import build_runtime
from caseworker.dashboard.words import LANGUAGES, catalogue
from db.models import (
    AuditEntry,
    Broadcast,
    FairSubscription,
    JobFair,
    JobPost,
    OutboxMessage,
    OutboxStatus,
    Seeker,
)
from tests.caseworker.test_board_and_tryit import apply
from tests.conftest import Clock
from tests.conftest import Seeker as Texter
from tests.dashboard.conftest import add_accounts, form_token, settings_for, signed_in
from tests.fakes.telegram_api import TOKEN, fake_bot_api
from tests.fakes.twilio_api import FakeTwilio

ATTACK = "<img src=x onerror=alert(1)>"
POST = {
    "code": "GN-GEESE-1",
    "title": "Goose keeper",
    "employer": "Gannan Farm",
    "category": "farming",
    "place": "Gannan",
    "pay_yuan_month": "2400",
    "hours": "Daily 6-14",
    "suits": "Anyone strong",
    "openings": "2",
    "status": "open",
}
BAD_CSV = (
    b"code,title,employer,category,place,pay_yuan_month,hours,suits\n"
    b"GN-1,Goose keeper,Gannan Farm,farming,Gannan,2400,Daily,Anyone\n"
    b"GN-2,Goose keeper,Gannan Farm,farming,Atlantis,2400,Daily,Anyone\n"
)


def count(database: Database, model: Any, *where: Any) -> int:
    with database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def post(client: TestClient, path: str, **data: str) -> Any:
    return client.post(path, data={"csrf": form_token(client, "/dashboard/jobs"), **data})


def actions(database: Database) -> list[str]:
    with database.sessions() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_a_post_is_added_edited_and_closed_with_an_audit_trail(
    client: TestClient, dashboard_database: Database
) -> None:
    signed_in(client)
    added = post(client, "/dashboard/jobs/new", **{**POST, "title": ATTACK})
    assert (
        added.status_code == 303 and added.headers["location"] == "/dashboard/jobs?saved=GN-GEESE-1"
    )
    listed = client.get("/dashboard/jobs?words=geese").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in listed and ATTACK not in listed
    with dashboard_database.sessions() as session:
        post_id = session.scalar(select(JobPost.id).where(JobPost.code == "GN-GEESE-1"))
    edited = post(
        client,
        f"/dashboard/jobs/{post_id}",
        **{**POST, "pay_yuan_month": "2600", "public_welfare": "yes"},
    )
    assert edited.status_code == 303
    closed = post(client, f"/dashboard/jobs/{post_id}/close")
    assert closed.status_code == 303
    with dashboard_database.sessions() as session:
        stored = session.get(JobPost, post_id)
        assert stored is not None
        assert (stored.pay_yuan_month, stored.public_welfare, stored.status) == (
            2600,
            True,
            "withdrawn",
        )
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [e.action for e in entries] == ["job.add", "job.edit", "job.close"]
    assert entries[1].before is not None and entries[1].before["pay_yuan_month"] == "2400"
    assert entries[2].after is not None and entries[2].after["status"] == "withdrawn"


def test_a_bad_post_is_refused_on_the_page_and_nothing_stored(
    client: TestClient, dashboard_database: Database
) -> None:
    signed_in(client)
    before = count(dashboard_database, JobPost)
    answer = post(client, "/dashboard/jobs/new", **{**POST, "place": "Atlantis"})
    assert answer.status_code == 400
    assert "There is no place called “Atlantis”." in answer.text
    assert 'value="Goose keeper"' in answer.text  # what was typed stays in the form
    assert count(dashboard_database, JobPost) == before and actions(dashboard_database) == []


def test_a_csv_with_bad_rows_imports_nothing_and_says_why(
    client: TestClient, dashboard_database: Database
) -> None:
    signed_in(client)
    before = count(dashboard_database, JobPost)
    token = form_token(client, "/dashboard/jobs")
    answer = client.post(
        "/dashboard/jobs/import",
        data={"csrf": token},
        files={"file": ("jobs.csv", BAD_CSV, "text/csv")},
    )
    assert answer.status_code == 400
    assert "Nothing imported: 1 rejected, 1 good rows held back." in answer.text
    assert "Line 3: There is no place called “Atlantis”." in answer.text
    assert count(dashboard_database, JobPost) == before
    good = BAD_CSV.replace(b"Atlantis", b"Gannan").replace(b"GN-2", b"GN-3")
    answer = client.post(
        "/dashboard/jobs/import",
        data={"csrf": token},
        files={"file": ("jobs.csv", good, "text/csv")},
    )
    assert (
        answer.status_code == 200 and "2 added, 0 updated, 0 unchanged, 0 rejected" in answer.text
    )
    assert count(dashboard_database, JobPost) == before + 2
    assert actions(dashboard_database) == ["jobs.import"]
    empty = client.post("/dashboard/jobs/import", data={"csrf": token})
    assert empty.status_code == 400 and "Choose a CSV file first." in empty.text


def test_a_fair_in_the_past_is_refused_then_one_is_added_and_changed(
    client: TestClient, dashboard_database: Database
) -> None:
    signed_in(client)
    before = count(dashboard_database, JobFair)
    fair = {"name": "Daoli Fair", "venue": "Daoli Hall", "district": "Daoli"}
    past = post(client, "/dashboard/fairs", starts="2020-05-01T09:00", **fair)
    assert (
        past.status_code == 400 and "is in the past. A fair must start later than now." in past.text
    )
    assert count(dashboard_database, JobFair) == before
    added = post(client, "/dashboard/fairs", starts="2099-05-01T09:00", **fair)
    assert added.status_code == 303
    fair_id = int(added.headers["location"].split("/")[-1].split("?")[0])
    changed = post(
        client, f"/dashboard/fairs/{fair_id}", starts="2099-05-02T10:00", **{**fair, "name": ATTACK}
    )
    assert changed.status_code == 303
    page = client.get(f"/dashboard/fairs/{fair_id}").text
    assert "&lt;img src=x" in page and ATTACK not in page and "2099-05-02T10:00" in page
    assert "Set a Telegram bot token" in page
    assert actions(dashboard_database) == ["fair.add", "fair.edit"]


async def learn_name(bot: Any) -> None:
    """getMe, as `jobline run` does at start; the name stays known after the client closes."""
    await bot.initialize()
    await bot.shutdown()


def test_with_a_telegram_bot_a_fair_has_its_link_and_poster(
    tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    with fake_bot_api() as bot_api:
        settings = settings_for(
            f"sqlite:///{tmp_path / 'tg.db'}",
            fake_twilio,
            telegram={"token": TOKEN, "api_base_url": bot_api.base_url, "webhook_secret": "s"},
        )
        database = open_database(settings)
        add_accounts(database)
        app: Starlette = build_runtime(settings, database)
        gateway = app.state.runtime.telegram
        assert gateway is not None
        # Its own thread: Playwright's sync API may hold this thread's event loop.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, learn_name(gateway.bot)).result()
        with TestClient(app, follow_redirects=False, headers={"Accept-Language": "en"}) as client:
            signed_in(client)
            page = client.get("/dashboard/fairs/1").text
            poster = client.get("/dashboard/fairs/1/poster")
        database.engine.dispose()
    link = "https://t.me/jobline_test_bot?start=fair_1"
    assert f'href="{link}"' in page
    assert (
        poster.status_code == 200
        and "<svg" in poster.text
        and f"<title>{link}</title>" in poster.text
    )


def test_a_long_broadcast_is_refused_and_a_good_one_previewed_sent_and_counted(
    client: TestClient, app: Starlette, dashboard_database: Database, clock: Clock
) -> None:
    app.state.runtime.jobline.clock = clock  # 10:00 in Harbin
    signed_in(client)
    long = post(client, "/dashboard/broadcasts/preview", text="x" * 5000, segment="all")
    assert long.status_code == 400
    assert "The message is 5000 characters" in long.text and "Shorten it." in long.text
    sent_long = post(client, "/dashboard/broadcasts/send", text="x" * 5000, segment="all")
    assert sent_long.status_code == 400 and count(dashboard_database, Broadcast) == 0
    both = post(client, "/dashboard/broadcasts/preview", text="Hi", fair="1", segment="all")
    assert both.status_code == 400 and "Write a message or choose a fair" in both.text
    seekers = _register_two(client, dashboard_database)
    shown = post(
        client, "/dashboard/broadcasts/preview", text=f"Office closed {ATTACK}", segment="all"
    )
    assert shown.status_code == 200
    assert "2 people" in shown.text and "SMS 2" in shown.text and "Estimated cost: 0." in shown.text
    assert (
        "Office closed &lt;img src=x onerror=alert(1)&gt;. Reply STOP for no more texts."
        in shown.text
    )
    assert "Goes out 2026-12-02 10:00" in shown.text
    sent = post(client, "/dashboard/broadcasts/send", text="Office closed Friday", segment="all")
    assert sent.status_code == 303
    page = client.get(sent.headers["location"])
    assert "The broadcast is on its way." in page.text
    counts = client.get(
        sent.headers["location"].split("?")[0] + "/counts", headers={"HX-Request": "true"}
    )
    assert 'data-status="queued">2<' in counts.text and 'hx-trigger="every 2s"' in counts.text
    with dashboard_database.sessions() as session:
        texts = session.scalars(
            select(OutboxMessage.address).where(OutboxMessage.kind == "broadcast")
        )
        assert sorted(texts) == seekers
    assert actions(dashboard_database) == ["broadcast.send"]


def _register_two(client: TestClient, database: Database) -> list[str]:
    """Two SMS seekers with alerts on, written straight to the database."""
    from tests.fakes.people import add_seekers

    add_seekers(database.sessions, 2)
    return ["+8613900000000", "+8613900000001"]


def test_moving_an_application_texts_the_seeker_once(
    client: TestClient, app: Starlette, dashboard_database: Database
) -> None:
    signed_in(client)
    reference = apply(Texter(app.state.runtime.jobline))
    board = client.get("/dashboard/applications").text
    assert f'id="application-{reference}"' in board
    assert '<option value="seen" selected>' in board  # the next stage is the default
    before = count(dashboard_database, OutboxMessage)
    moved = post(client, f"/dashboard/applications/{reference}/stage", stage="interview")
    assert moved.status_code == 303
    assert count(dashboard_database, OutboxMessage) == before + 1
    page = client.get(moved.headers["location"]).text
    assert f"{reference} is now at Interview." in page
    assert '<option value="hired" selected>' in page
    wrong = post(client, f"/dashboard/applications/{reference}/stage", stage="promoted")
    assert wrong.status_code == 400 and "is not a stage. Pick one from the list." in wrong.text
    assert count(dashboard_database, OutboxMessage) == before + 1
    assert actions(dashboard_database) == ["application.stage"]


def test_try_it_talks_as_a_test_seeker_left_out_of_broadcasts(
    client: TestClient, dashboard_database: Database
) -> None:
    signed_in(client)
    made = post(client, "/dashboard/try/new", language="en")
    assert made.status_code == 303
    phone = made.headers["location"]
    answer = post(client, f"{phone}/say", text=ATTACK, **{})
    assert answer.status_code == 303
    screen = client.get(phone).text
    assert "&lt;img src=x onerror=alert(1)&gt;" in screen and ATTACK not in screen
    fragment = client.post(
        f"{phone}/say",
        data={"text": "hello"},
        headers={"HX-Request": "true", "X-CSRF-Token": form_token(client, phone)},
    )
    assert fragment.status_code == 200 and fragment.text.startswith('<ol id="screen"')
    assert "I am Jobline" in fragment.text
    with dashboard_database.sessions() as session:
        seeker = session.scalar(select(Seeker).where(Seeker.is_test.is_(True)))
        assert seeker is not None and seeker.phone == "+8610000000001"
    preview = post(client, "/dashboard/broadcasts/preview", text="Hello all", segment="all")
    assert "0 people" in preview.text and "Nobody is in that group" in preview.text
    real = client.get("/dashboard/try/999999")
    assert real.status_code == 404
    assert actions(dashboard_database) == ["try.new_test_seeker"]
    assert count(dashboard_database, FairSubscription) == 0


def test_every_outbox_status_has_words_in_both_languages() -> None:
    for language in LANGUAGES:
        assert all(f"status_{status}" in catalogue(language) for status in OutboxStatus)
