"""Remake the README's dashboard screenshots (docs/dashboard-*.png) in Debian's Chromium.

A throw-away Jobline on SQLite with the demo data, a few seekers who texted it (one waiting for a
person, two who applied), served on a free port; each page is shot at 1366x768, scaled to 0.6
(820x461), so each PNG stays well under 150 KB.

    .venv/bin/python docs/screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.database import open_database  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from caseworker.casework import set_stage  # noqa: E402
from db.models import utcnow  # noqa: E402
from db.session import transaction  # noqa: E402
from tests.caseworker.test_board_and_tryit import apply  # noqa: E402
from tests.conftest import Seeker  # noqa: E402
from tests.dashboard.conftest import (  # noqa: E402
    ADMIN,
    CHROMIUM,
    Live,
    add_accounts,
    ask_for_a_person,
    settings_for,
    sign_in_with,
)
from tests.fakes.twilio_api import FakeTwilio  # noqa: E402

DOCS = ROOT / "docs"
SCALE = 0.6


def shoot(page: Page, name: str) -> None:
    """The visible window as docs/dashboard-NAME.png."""
    page.wait_for_load_state("networkidle")
    path = DOCS / f"dashboard-{name}.png"
    page.screenshot(path=str(path))
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KB")


def main() -> None:
    fake = FakeTwilio("AC" + "d" * 32, "dashboard-test-token").start()
    with tempfile.TemporaryDirectory() as folder:
        settings = settings_for(f"sqlite:///{folder}/jobline.db", fake)
        database = open_database(settings)
        add_accounts(database)
        web = build_runtime(settings, database)
        jobline = web.state.runtime.jobline
        ask_for_a_person(jobline, "+8613800000001", "My pay from the cleaning job did not come.")
        references = [apply(Seeker(jobline, f"+861380000001{n}")) for n in range(3)]
        with transaction(database.sessions) as session:
            set_stage(session, references[0], "interview", utcnow())
            set_stage(session, references[1], "seen", utcnow())
        server = uvicorn.Server(uvicorn.Config(web, port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            context = browser.new_context(
                viewport={"width": 1366, "height": 768}, device_scale_factor=SCALE, locale="en-US"
            )
            page = context.new_page()
            sign_in_with(page, Live(url, database, settings, fake, web), ADMIN)
            shoot(page, "overview")
            page.goto(f"{url}/dashboard/handoffs")
            page.get_by_role("link", name="Wang Lei").first.click()
            page.get_by_label("Reply").fill("Room 201, 88 Zhongshan Road, before 17:00.")
            page.get_by_label("Reply").scroll_into_view_if_needed()
            shoot(page, "handoff")
            page.goto(f"{url}/dashboard/seekers")
            shoot(page, "seekers")
            page.goto(f"{url}/dashboard/applications")
            shoot(page, "applications")
            page.goto(f"{url}/dashboard/broadcasts")
            page.get_by_label("Message").fill("The office is closed on Friday")
            page.get_by_role("button", name="Preview").click()
            page.locator("#preview").wait_for()
            shoot(page, "broadcasts")
            browser.close()
        server.should_exit = True
        thread.join(timeout=20)
        database.engine.dispose()
    fake.stop()


if __name__ == "__main__":
    main()
