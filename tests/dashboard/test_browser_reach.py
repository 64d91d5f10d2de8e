"""In Chromium: each control is named and reached by Tab; each page fits 1366x768 and a phone."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select

from caseworker.dashboard.web import ADMIN_NAV, NAV
from db.models import Seeker
from tests.caseworker.test_board_and_tryit import apply
from tests.conftest import Seeker as Texter
from tests.dashboard.conftest import ADMIN, PASSWORD, Live, ask_for_a_person

PHONE = "+8613800000001"
# Every control a person can use, and what it is called (its label, text or aria-label).
CONTROLS = """() => [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea')]
  .filter(el => el.offsetParent !== null || el === document.activeElement)
  .map(el => ({
    tag: el.tagName + (el.id ? '#' + el.id : ''),
    name: (el.getAttribute('aria-label') || (el.labels && [...el.labels].map(l => l.innerText)
      .join(' ')) || el.innerText || el.value || '').trim(),
    key: el.outerHTML.slice(0, 160),
  }))"""
FOCUSED = "() => document.activeElement ? document.activeElement.outerHTML.slice(0, 160) : ''"
# How much wider than the window the page is (0: no sideways scrolling of the whole page).
TOO_WIDE = "() => document.documentElement.scrollWidth - window.innerWidth"


def with_people(live: Live) -> list[tuple[str, str]]:
    """A seeker waiting for a person and an application; the pages to check, with theirs."""
    jobline = live.app.state.runtime.jobline
    ask_for_a_person(jobline, PHONE)
    apply(Texter(jobline, "+8613800000002"))
    with live.database.sessions() as session:
        seeker_id = session.scalar(select(Seeker.id).where(Seeker.phone == PHONE))
    own = [(f"/handoffs/{seeker_id}", ""), (f"/seekers/{seeker_id}", "")]
    return [*NAV, *ADMIN_NAV, *own]


def sign_in_by_keyboard(page: Page, live: Live) -> None:
    """Sign in with Tab, typing and Enter only."""
    page.goto(f"{live.url}/dashboard/login")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.name") == "email":
            break
    page.keyboard.type(ADMIN)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live.url}/dashboard/")


def tab_stops(page: Page, limit: int) -> set[str]:
    """Press Tab from the top of the page and note each control that takes the focus."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    seen: set[str] = set()
    for _ in range(limit):
        page.keyboard.press("Tab")
        seen.add(page.evaluate(FOCUSED))
    return seen


def test_every_control_is_named_and_reached_from_the_keyboard(page: Page, live: Live) -> None:
    paths = with_people(live)
    sign_in_by_keyboard(page, live)
    for path, _ in paths:
        page.goto(f"{live.url}/dashboard{path}")
        controls: list[dict[str, Any]] = page.evaluate(CONTROLS)
        assert controls, path
        nameless = [c["tag"] for c in controls if not c["name"]]
        assert nameless == [], (path, nameless)
        reached = tab_stops(page, 2 * len(controls) + 10)  # a date box has a stop per part
        missed = [c["key"] for c in controls if c["key"] not in reached]
        assert missed == [], (path, missed)


def test_a_reply_is_sent_and_an_application_moved_by_keyboard(page: Page, live: Live) -> None:
    with_people(live)
    sign_in_by_keyboard(page, live)
    page.goto(f"{live.url}/dashboard/handoffs")
    page.get_by_role("link", name="Wang Lei").focus()
    page.keyboard.press("Enter")
    page.get_by_label("Reply").focus()
    page.keyboard.type("Room 201 at 14:00.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the Send button, next after the reply box
    expect(page.get_by_role("status")).to_have_text("Your reply is on its way to the seeker.")
    page.goto(f"{live.url}/dashboard/applications")
    page.locator("select[name=stage]").first.focus()
    page.keyboard.press("ArrowDown")  # Seen -> Interview
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("is now at Interview")


def test_each_page_fits_a_laptop_and_a_phone_without_sideways_scrolling(
    page: Page, live: Live
) -> None:
    paths = with_people(live)
    sign_in_by_keyboard(page, live)
    for width, height in ((1366, 768), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        for path, _ in paths:
            page.goto(f"{live.url}/dashboard{path}")
            assert page.evaluate(TOO_WIDE) <= 0, (width, path)
            size = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
            assert size >= 14, (width, path, size)
