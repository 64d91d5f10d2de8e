"""In Chromium: send a broadcast, move an application, add a job, a bad CSV, Try it."""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import Dialog, Page, expect
from sqlalchemy import func, select

from bot.channels.base import InboundMessage
from db.models import JobPost, OutboxMessage
from tests.dashboard.conftest import Live, screenshot
from tests.dashboard.test_pages import ATTACK, BAD_CSV
from tests.fakes.people import add_seekers
from tests.fakes.seekers import REFERENCE, register


class SmsSeeker:
    """A seeker texting the live Jobline by SMS; replies leave through the fake Twilio."""

    def __init__(self, live: Live, phone: str = "+8613800000077") -> None:
        self.live = live
        self.phone = phone

    def send(self, message: str, kind: str = "text") -> list[str]:
        """Text Jobline; the replies to this message."""
        jobline = self.live.app.state.runtime.jobline
        received = jobline.handle(InboundMessage("sms", self.phone, message, kind=kind))
        with self.live.database.sessions() as session:
            rows = session.scalars(
                select(OutboxMessage.text)
                .where(OutboxMessage.idempotency_key.like(f"reply:{received.message_id}:%"))
                .order_by(OutboxMessage.id)
            )
            return list(rows)

    def says(self, message: str, kind: str = "text") -> str:
        """Text Jobline; the replies as one string."""
        return "\n".join(self.send(message, kind))

    def wait_until_all_sent(self) -> None:
        """Until the fake Twilio has every text queued for this phone (the dispatcher runs)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with self.live.database.sessions() as session:
                queued = session.scalar(
                    select(func.count()).where(OutboxMessage.address == self.phone)
                )
            if len(self.texts_received()) >= (queued or 0):
                return
            time.sleep(0.1)
        raise AssertionError("the dispatcher did not send every text")

    def texts_received(self) -> list[str]:
        """Every SMS the fake Twilio got for this phone."""
        return [form["Body"] for form in self.live.fake_twilio.sent if form.get("To") == self.phone]


def no_dialogs(page: Page) -> list[str]:
    """Fail on any alert(): seekers' words must never run."""
    opened: list[str] = []

    def seen(dialog: Dialog) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", seen)
    return opened


def test_compose_preview_send_a_broadcast_and_see_its_counts(admin_page: Page, live: Live) -> None:
    add_seekers(live.database.sessions, 3)
    page = admin_page
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Broadcasts").click()
    page.get_by_label("Message").fill("x" * 5000)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("alert")).to_contain_text("The message is 5000 characters")
    page.get_by_label("Message").fill("The office is closed on Friday")
    page.get_by_label("Send to").select_option(label="Everyone")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("3 people")
    expect(preview).to_contain_text("The office is closed on Friday. Reply STOP for no more texts.")
    expect(preview).to_contain_text("Estimated cost: 0.15 yuan (3 SMS segments)")
    screenshot(page, "broadcast-preview")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dashboard/broadcasts/\d+\?sent=1$"))
    expect(page.get_by_text("The broadcast is on its way.")).to_be_visible()
    # The dispatcher sends through the fake Twilio; htmx polls the counts until they settle.
    expect(page.locator('td[data-status="sent"]')).to_have_text("3", timeout=30_000)
    expect(page.locator('td[data-status="queued"]')).to_have_text("0")
    screenshot(page, "broadcast-counts")
    bodies = [form["Body"] for form in live.fake_twilio.sent]
    assert bodies.count("The office is closed on Friday. Reply STOP for no more texts.") == 3


def test_move_an_application_and_the_seeker_gets_exactly_one_text(
    admin_page: Page, live: Live
) -> None:
    seeker = SmsSeeker(live)
    register(seeker)
    seeker.send("jobs")
    seeker.send("2")
    found = REFERENCE.search(seeker.says("1"))
    assert found is not None
    reference = found.group(1)
    seeker.wait_until_all_sent()
    before = seeker.texts_received()
    page = admin_page
    page.goto(f"{live.url}/dashboard/applications")
    card = page.locator(f"#application-{reference}")
    card.get_by_label("Move to").select_option(label="Interview")
    screenshot(page, "applications")
    card.get_by_role("button", name=f"Move {reference}").click()
    expect(page.get_by_role("status")).to_have_text(
        f"{reference} is now at Interview. The seeker gets one text about it."
    )
    column = page.locator('section[aria-labelledby="stage-interview"]')
    expect(column.locator(f"#application-{reference}")).to_be_visible()
    deadline = time.monotonic() + 30
    while len(seeker.texts_received()) == len(before) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)  # long enough for a second text to arrive, were one sent
    new = seeker.texts_received()[len(before) :]
    assert len(new) == 1 and reference in new[0] and "interview" in new[0].lower()


def test_create_a_job(admin_page: Page, live: Live) -> None:
    page = admin_page
    opened = no_dialogs(page)
    page.goto(f"{live.url}/dashboard/jobs")
    screenshot(page, "jobs")
    page.get_by_role("link", name="New post").click()
    page.get_by_label("Code").fill("HRB-GOOSE-1")
    page.get_by_label("Title", exact=True).fill(ATTACK)
    page.get_by_label("Employer", exact=True).fill("Gannan Farm")
    page.get_by_label("Kind of work").select_option(label="Farming")
    page.get_by_label("Place").select_option("Gannan")
    page.get_by_label("Pay (yuan a month)").fill("lots")
    page.get_by_label("Hours", exact=True).fill("Daily 6-14")
    page.get_by_label("Suits", exact=True).fill("Anyone strong")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Pay (yuan a month): write yuan a month")
    page.get_by_label("Pay (yuan a month)").fill("2400")
    screenshot(page, "job-form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Post HRB-GOOSE-1 is saved.")
    page.get_by_label("Search").fill("goose")
    page.get_by_role("button", name="Filter").click()
    row = page.get_by_role("row").filter(has_text="HRB-GOOSE-1")
    expect(row).to_contain_text(ATTACK)  # shown as text
    expect(row).to_contain_text("2400")
    assert opened == []


def test_a_csv_with_bad_rows_imports_nothing(admin_page: Page, live: Live, tmp_path: Path) -> None:
    with live.database.sessions() as session:
        before = session.scalar(select(func.count()).select_from(JobPost))
    upload = tmp_path / "jobs.csv"
    upload.write_bytes(BAD_CSV)
    page = admin_page
    page.goto(f"{live.url}/dashboard/jobs")
    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_role("button", name="Upload").click()
    report = page.get_by_role("alert")
    expect(report).to_contain_text("Nothing imported: 1 rejected, 1 good rows held back.")
    expect(report).to_contain_text("Line 3: There is no place called “Atlantis”.")
    screenshot(page, "jobs-bad-csv")
    with live.database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(JobPost)) == before


def test_try_it_texts_jobline_as_a_test_seeker(admin_page: Page, live: Live) -> None:
    page = admin_page
    opened = no_dialogs(page)
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Try it").click()
    page.get_by_role("button", name="New test seeker").click()
    page.get_by_label("Text as the seeker").fill("hello")
    page.get_by_role("button", name="Send", exact=True).click()
    screen = page.get_by_role("list", name="Phone screen")
    expect(screen).to_contain_text("I am Jobline")
    expect(page.get_by_label("Text as the seeker")).to_have_value("")
    page.get_by_label("Text as the seeker").fill(ATTACK)
    page.get_by_label("Text as the seeker").press("Enter")
    expect(screen).to_contain_text(ATTACK)
    screenshot(page, "try-it")
    assert opened == []
