"""Dashboard fixtures: the real app over HTTP, and a real browser signed in to it.

- `dashboard_settings`: settings on the test database (SQLite and PostgreSQL) with a fixed
  signing key, no quiet hours, and SMS through `fake_twilio` (tests/fakes/twilio_api.py).
- `app`: the whole web app from bot/runtime.py (no background services: use `live` for those).
  `app.state.runtime.jobline.clock = clock` moves the dashboard's clock too.
- `client` / `signed_in(client, email, password)`: an HTTP client on `app`; `ADMIN` and
  `CASEWORKER` accounts exist (passwords `PASSWORD`). `form_token(client, path)` reads the CSRF
  token from a page.
- `live`: the app served by uvicorn on a free port in a thread, with its dispatcher running
  (`live.url`, `live.database`, `live.fake_twilio`); SQLite only, as browser tests need one.
- `browser` (one Chromium per run, /usr/bin/chromium), `page` (1366x768, English), and
  `admin_page`: a page already signed in to `live` as ADMIN. `screenshot(page, name)` saves
  var/screenshots/NAME.png (not committed); `go_to(page, "Jobs")` follows a header link.
- `ask_for_a_person(jobline, phone)`: a seeker registers by SMS and waits for a person
  (`app.state.runtime.jobline` or `live.app.state.runtime.jobline`).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.channels.base import InboundMessage
from bot.conversation import Jobline
from bot.database import Database, open_database
from bot.runtime import build_runtime
from bot.settings import Settings, load_settings
from caseworker.staff import Role, add_staff
from db.models import utcnow
from db.session import transaction
from tests.fakes.seekers import HAPPY_PATH
from tests.fakes.twilio_api import FakeTwilio

ACCOUNT_SID = "AC" + "d" * 32
AUTH_TOKEN = "dashboard-test-token"
ADMIN = "ada@jobline.test"
CASEWORKER = "cai@jobline.test"
PASSWORD = "correct horse 7"
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """Twilio's API on 127.0.0.1, recording what Jobline sends."""
    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    yield fake
    fake.stop()


def settings_for(database_url: str, fake: FakeTwilio, **overrides: Any) -> Settings:
    """Test settings: this database, the fake Twilio, a fixed key, no quiet hours."""
    values: dict[str, Any] = {"public_base_url": "http://127.0.0.1:8000", **overrides}
    return load_settings(
        database_url=database_url,
        twilio={
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "from_number": "+15005550006",
            "api_base_url": fake.url,
        },
        notify={"quiet_hours": "", "rate_limits": {"twilio": 0}},
        dashboard={"secret_key": "dashboard-test-signing-key"},
        **values,
    )


def add_accounts(database: Database) -> None:
    """An admin (English) and a caseworker (Chinese), both with PASSWORD."""
    with transaction(database.sessions) as session:
        add_staff(session, ADMIN, Role.admin, PASSWORD, utcnow(), "Ada", "en")
        add_staff(session, CASEWORKER, Role.caseworker, PASSWORD, utcnow(), "Cai", "zh")


@pytest.fixture
def dashboard_settings(database_url: str, fake_twilio: FakeTwilio) -> Settings:
    """Settings for dashboard tests on the test database."""
    return settings_for(database_url, fake_twilio)


@pytest.fixture
def dashboard_database(dashboard_settings: Settings) -> Iterator[Database]:
    """The migrated test database with demo data and the two accounts."""
    database = open_database(dashboard_settings)
    add_accounts(database)
    yield database
    database.engine.dispose()


@pytest.fixture
def app(dashboard_settings: Settings, dashboard_database: Database) -> Starlette:
    """The whole Jobline web app (its background services do not run under TestClient)."""
    return build_runtime(dashboard_settings, dashboard_database)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    """An HTTP client on the app that asks for English and does not follow redirects."""
    with_client = TestClient(app, follow_redirects=False, headers={"Accept-Language": "en"})
    yield with_client
    with_client.close()


def form_token(client: TestClient | httpx.Client, path: str = "/dashboard/login") -> str:
    """The CSRF token in a page's forms."""
    page = client.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def signed_in(client: TestClient, email: str = ADMIN, password: str = PASSWORD) -> TestClient:
    """Sign the client in through the login form."""
    answer = client.post(
        "/dashboard/login",
        data={"email": email, "password": password, "csrf": form_token(client)},
    )
    assert answer.status_code == 303, answer.text
    return client


@dataclass
class Live:
    """A running Jobline: its URL, database and the fake Twilio it sends SMS through."""

    url: str
    database: Database
    settings: Settings
    fake_twilio: FakeTwilio
    app: Starlette


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def live(tmp_path: Path, fake_twilio: FakeTwilio) -> Iterator[Live]:
    """The app with its services, served by uvicorn on a free port in a thread."""
    settings = settings_for(f"sqlite:///{tmp_path / 'live.db'}", fake_twilio)
    database = open_database(settings)
    add_accounts(database)
    web = build_runtime(settings, database)
    sock = _free_socket()
    server = uvicorn.Server(uvicorn.Config(web, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    host, port = sock.getsockname()[:2]
    yield Live(f"http://{host}:{port}", database, settings, fake_twilio, web)
    server.should_exit = True
    thread.join(timeout=20)
    sock.close()
    database.engine.dispose()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, once for the dashboard tests.

    Package scope: Playwright's sync API keeps an event loop running on the main thread while it
    is open, and the tests that come after (asyncio.run in the delivery tests) need it closed.
    """
    # A busy machine (tests run in parallel) can take more than the default 5 s to show a change.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser tab at 1366x768 that asks for English pages."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def sign_in_with(page: Page, live: Live, email: str = ADMIN, password: str = PASSWORD) -> None:
    """Sign in through the login form, as a person would."""
    page.goto(f"{live.url}/dashboard/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live.url}/dashboard/")


@pytest.fixture
def admin_page(page: Page, live: Live) -> Page:
    """A tab signed in to the live app as the admin."""
    sign_in_with(page, live)
    return page


def go_to(page: Page, name: str) -> None:
    """Follow a link of the header's navigation by its name."""
    nav = page.get_by_role("navigation", name="Main menu")
    nav.get_by_role("link", name=name, exact=True).click()
    page.wait_for_load_state()


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as var/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def ask_for_a_person(
    jobline: Jobline, phone: str, words: str = "Where is the office?", channel: str = "sms"
) -> None:
    """A seeker registers by text, asks for a person (9), then writes to them."""
    for text, _ in HAPPY_PATH:
        jobline.handle(InboundMessage(channel, phone, text))
    jobline.handle(InboundMessage(channel, phone, "9"))
    jobline.handle(InboundMessage(channel, phone, words))
