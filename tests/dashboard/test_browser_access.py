"""In Chromium: sign in, switch language, sign out."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from caseworker.dashboard.web import ADMIN_NAV, NAV
from caseworker.dashboard.words import word
from tests.dashboard.conftest import ADMIN, Live, screenshot, sign_in_with


def test_sign_in_switch_language_and_sign_out(page: Page, live: Live) -> None:
    page.goto(f"{live.url}/dashboard/")
    expect(page).to_have_url(f"{live.url}/dashboard/login")
    screenshot(page, "login")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    sign_in_with(page, live)
    nav = page.get_by_role("navigation", name="Main menu")
    for name in ("Overview", "Handoffs", "Seekers", "Jobs", "Applications", "Fairs"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    for name in ("Broadcasts", "Try it", "Staff", "Audit log"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("heading", name="概览")).to_be_visible()
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="概览")).to_be_visible()  # kept for this account
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live.url}/dashboard/login?bye=1")
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto(f"{live.url}/dashboard/staff")
    expect(page).to_have_url(f"{live.url}/dashboard/login")


def test_each_page_opens_and_is_saved_as_a_screenshot(admin_page: Page, live: Live) -> None:
    for path, key in NAV + ADMIN_NAV:
        answer = admin_page.goto(f"{live.url}/dashboard{path}")
        assert answer is not None and answer.status == 200, path
        expect(admin_page.get_by_role("heading", level=1)).to_have_text(word("en", key))
        screenshot(admin_page, key)
    admin_page.set_viewport_size({"width": 390, "height": 844})
    admin_page.goto(f"{live.url}/dashboard/")
    screenshot(admin_page, "overview-phone")
