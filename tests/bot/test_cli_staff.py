"""`jobline staff add | list | disable`: accounts for the dashboard, passwords never shown."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.database import Database
from bot.settings import Settings, get_settings
from caseworker.staff import SignInOutcome, sign_in
from db.models import Staff, utcnow
from db.session import transaction

runner = CliRunner()


@pytest.fixture
def jobline_cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`jobline` pointed at the test database."""
    monkeypatch.setenv("JOBLINE_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def jobline(*args: str, stdin: str = "") -> Result:
    return runner.invoke(app, list(args), input=stdin)


@pytest.mark.usefixtures("jobline_cli")
def test_add_list_and_disable_an_account(database: Database) -> None:
    added = jobline(
        "staff", "add", "Li.Na@Office.cn", "--role", "admin", "--name", "李娜", stdin="s3cret-pw\n"
    )
    assert added.exit_code == 0, added.output
    assert "Added li.na@office.cn (admin)." in added.output
    assert "s3cret-pw" not in added.output
    with database.sessions() as session:
        staff = session.scalar(select(Staff).where(Staff.email == "li.na@office.cn"))
        assert staff is not None and staff.language == "zh" and staff.name == "李娜"
        assert staff.password_hash.startswith("$argon2id$") and "s3cret" not in staff.password_hash
    assert "li.na@office.cn  admin  zh  active  李娜" in jobline("staff", "list").output
    again = jobline("staff", "add", "li.na@office.cn", "--role", "caseworker", stdin="another-pw\n")
    assert again.exit_code == 1 and "already an account for li.na@office.cn" in again.output
    short = jobline("staff", "add", "b@office.cn", "--role", "caseworker", stdin="short\n")
    assert short.exit_code == 1 and "at least 8 characters" in short.output
    bad_role = jobline("staff", "add", "c@office.cn", "--role", "boss", stdin="long-enough\n")
    assert bad_role.exit_code == 2
    disabled = jobline("staff", "disable", "LI.NA@office.cn")
    assert disabled.exit_code == 0 and "Disabled li.na@office.cn." in disabled.output
    assert "li.na@office.cn  admin  zh  disabled" in jobline("staff", "list").output
    with transaction(database.sessions) as session:
        assert sign_in(session, "li.na@office.cn", "s3cret-pw", utcnow()).outcome is (
            SignInOutcome.wrong
        )
    assert jobline("staff", "disable", "nobody@office.cn").exit_code == 1


def _read_until(fd: int, wanted: bytes, seconds: float = 60) -> bytes:
    seen = b""
    deadline = time.monotonic() + seconds
    while wanted not in seen:
        assert time.monotonic() < deadline, seen
        try:
            seen += os.read(fd, 1024)
        except OSError:
            break
    return seen


def test_at_a_terminal_the_password_is_asked_twice(settings: Settings, database: Database) -> None:
    main, child = pty.openpty()
    env = {**os.environ, "JOBLINE_DATABASE_URL": settings.database_url}
    command = [sys.executable, "-m", "bot.cli", "staff", "add", "t@office.cn", "--role", "admin"]
    process = subprocess.Popen(command, stdin=child, stdout=child, stderr=child, env=env)
    os.close(child)
    try:
        _read_until(main, b"Password: ")
        os.write(main, b"typed-twice-1\n")
        _read_until(main, b"Password again: ")
        os.write(main, b"typed-twice-1\n")
        output = _read_until(main, b"Added t@office.cn (admin).")
        assert b"typed-twice-1" not in output
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
        os.close(main)
    with transaction(database.sessions) as session:
        assert sign_in(session, "t@office.cn", "typed-twice-1", utcnow()).outcome is (
            SignInOutcome.ok
        )
