"""In Chromium: answer a handoff (the reply leaves through the fake Twilio), search seekers."""

from __future__ import annotations

import time

from playwright.sync_api import Dialog, Page, expect

from tests.dashboard.conftest import Live, ask_for_a_person, go_to, screenshot
from tests.dashboard.test_office_pages import XSS, add_seekers

PHONE = "+8613800000001"


def sent_to(live: Live, phone: str, contains: str, seconds: float = 20) -> list[str]:
    """Bodies the fake Twilio got for this number that contain the words (waits for them)."""
    deadline = time.monotonic() + seconds
    while True:
        found = [
            f["Body"] for f in live.fake_twilio.sent if f["To"] == phone and contains in f["Body"]
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_answer_a_handoff_and_the_reply_leaves_by_sms(admin_page: Page, live: Live) -> None:
    dialogs: list[Dialog] = []
    admin_page.on("dialog", lambda dialog: (dialogs.append(dialog), dialog.dismiss()))
    jobline = live.app.state.runtime.jobline
    go_to(admin_page, "Handoffs")
    expect(admin_page.get_by_text("Nobody is waiting for a person.")).to_be_visible()
    ask_for_a_person(jobline, PHONE, words=XSS)
    # No reload: the waiting list polls and the new handoff appears.
    expect(admin_page.get_by_role("link", name="Wang Lei")).to_be_visible(timeout=20_000)
    expect(admin_page.get_by_text(XSS)).to_be_visible()
    screenshot(admin_page, "handoffs-waiting")
    admin_page.get_by_role("link", name="Wang Lei").click()
    expect(admin_page.get_by_role("heading", name="Wang Lei")).to_be_visible()
    admin_page.get_by_role("button", name="Send").click()
    expect(admin_page.get_by_role("alert")).to_have_text(
        "The reply is empty. Write something, then press Send."
    )
    admin_page.get_by_label("Reply").fill("Come to room 201 at 14:00.")
    screenshot(admin_page, "handoff-reply")
    admin_page.get_by_role("button", name="Send").click()
    expect(admin_page.get_by_role("status")).to_have_text("Your reply is on its way to the seeker.")
    assert sent_to(live, PHONE, "Come to room 201") == ["Caseworker: Come to room 201 at 14:00."]
    admin_page.get_by_role("button", name="Close").click()
    expect(admin_page.get_by_role("status")).to_contain_text("Closed.")
    assert sent_to(live, PHONE, "Caseworker: Come") == ["Caseworker: Come to room 201 at 14:00."]
    assert dialogs == []


def test_search_seekers(admin_page: Page, live: Live) -> None:
    dialogs: list[Dialog] = []
    admin_page.on("dialog", lambda dialog: (dialogs.append(dialog), dialog.dismiss()))
    add_seekers(live.database, 60)
    go_to(admin_page, "Seekers")
    expect(admin_page.get_by_role("status")).to_have_text("63 seekers")
    expect(admin_page.get_by_text(XSS)).to_be_visible()
    screenshot(admin_page, "seekers-list")
    admin_page.get_by_label("Search").fill("seeker 04")
    admin_page.get_by_label("District").select_option("Daoli")
    admin_page.get_by_role("button", name="Search").click()
    expect(admin_page.get_by_role("status")).to_have_text("5 seekers")
    admin_page.get_by_role("link", name="Seeker 041").click()
    expect(admin_page.get_by_role("heading", name="Seeker 041")).to_be_visible()
    screenshot(admin_page, "seeker")
    admin_page.go_back()
    with admin_page.expect_download() as download:
        admin_page.get_by_role("link", name="Export as CSV").click()
    text = download.value.path().read_text(encoding="utf-8")
    assert text.count("\n") == 1 + 5 and "Seeker 041" in text
    assert dialogs == []
