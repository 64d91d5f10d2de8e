"""kill -9 in the middle of a broadcast through two office phones: every seeker gets it once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.database import Database, open_database
from bot.settings import Settings, load_settings
from db.models import OutboxMessage
from notify import broadcasts
from tests.bot.channels.android.conftest import PHONES
from tests.fakes.android_gateway import PASSWORD, SIGNING_KEY, USERNAME, FakeGateway
from tests.fakes.people import add_seekers, phone
from tests.notify.test_reliability import broadcast_to_all

ROOT = Path(__file__).resolve().parents[4]
SEEKERS = 600


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[tuple[Settings, Database]]:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'crash.db'}",
        load_demo_data=False,
        notify={"quiet_hours": ""},
    )
    database = open_database(settings)
    yield settings, database
    database.engine.dispose()


def jobline_worker(gateway: FakeGateway, database_url: str) -> subprocess.Popen[bytes]:
    """`jobline worker` with the two office phones on, 50 texts a second each, Twilio off."""
    env = {
        **os.environ,
        "JOBLINE_DATABASE_URL": database_url,
        "JOBLINE_NOTIFY__QUIET_HOURS": "",
        "JOBLINE_SMS__ANDROID__API_URL": gateway.url,
        "JOBLINE_SMS__ANDROID__USERNAME": USERNAME,
        "JOBLINE_SMS__ANDROID__PASSWORD": PASSWORD,
        "JOBLINE_SMS__ANDROID__SIGNING_KEY": SIGNING_KEY,
        "JOBLINE_SMS__ANDROID__PHONES": json.dumps([{"id": device} for device in PHONES]),
        "JOBLINE_SMS__ANDROID__PER_PHONE_PER_MINUTE": "3000",
    }
    command = [str(ROOT / ".venv" / "bin" / "jobline"), "worker"]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def left(database: Database) -> int:
    with database.sessions() as session:
        query = select(func.count()).where(OutboxMessage.status.in_(("queued", "sending")))
        return int(session.scalar(query.select_from(OutboxMessage)) or 0)


def test_kill_9_mid_broadcast_then_restart_sends_each_text_once(
    sqlite_database: tuple[Settings, Database], gateway: FakeGateway
) -> None:
    settings, database = sqlite_database
    add_seekers(database.sessions, SEEKERS)
    broadcast_id = broadcast_to_all(database, settings)
    first = jobline_worker(gateway, settings.database_url)
    deadline = time.monotonic() + 60
    while len(gateway.texts) < 150 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert 150 <= len(gateway.texts) < SEEKERS
    second = jobline_worker(gateway, settings.database_url)
    try:
        deadline = time.monotonic() + 90
        while left(database) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        second.terminate()
        second.wait()
    assert Counter(text.to for text in gateway.texts) == {phone(n): 1 for n in range(SEEKERS)}
    shares = [len(texts) for texts in gateway.per_device().values()]
    assert len(shares) == 2 and min(shares) > SEEKERS * 0.4  # both phones carried it
    with database.sessions() as session:
        assert broadcasts.report(session, broadcast_id)["counts"]["sent"] == SEEKERS
        statuses = set(session.scalars(select(OutboxMessage.status)))
    assert statuses == {"sent"}  # nothing left "unknown"
