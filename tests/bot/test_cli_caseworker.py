"""The caseworker commands, run as a caseworker would, on the same database seekers use."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.database import Database
from bot.settings import Settings, get_settings
from caseworker.tryit import new_test_seeker
from db.models import Conversation, Handoff, OutboxMessage, utcnow
from db.session import transaction
from tests.conftest import Seeker
from tests.fakes.seekers import REFERENCE, register

runner = CliRunner()


@pytest.fixture
def jobline_cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`jobline` pointed at the test database."""
    monkeypatch.setenv("JOBLINE_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def jobline(*args: str) -> Result:
    return runner.invoke(app, list(args))


@pytest.mark.usefixtures("jobline_cli")
def test_jobs_import_reports_rejected_rows_and_is_idempotent(
    database: Database, tmp_path: Path
) -> None:
    csv_file = tmp_path / "jobs.csv"
    csv_file.write_bytes(
        (
            "code,title,employer,category,place,pay_yuan_month,hours,suits\n"
            "GN-GEESE-1,养鹅工,甘南养殖场,养殖,甘南县,2400,每天,能吃苦\n"
            "GN-GEESE-2,Goose keeper,Gannan Farm,geese,Atlantis,2400,Daily,Anyone\n"
        ).encode("gbk")
    )
    first = jobline("jobs", "import", str(csv_file))
    assert first.exit_code == 1
    assert "1 added, 0 updated, 0 unchanged, 1 rejected" in first.output
    assert "line 3: unknown place 'Atlantis'" in first.output
    again = jobline("jobs", "import", str(csv_file))
    assert "0 added, 0 updated, 1 unchanged, 1 rejected" in again.output
    listed = jobline("jobs", "list", "--format", "json")
    rows = json.loads(listed.output)
    assert {"code": "GN-GEESE-1", "place": "Gannan", "category": "farming"}.items() <= next(
        r for r in rows if r["code"] == "GN-GEESE-1"
    ).items()
    missing = tmp_path / "short.csv"
    missing.write_text("code,title\nX,Y\n")
    refused = jobline("jobs", "import", str(missing))
    assert refused.exit_code == 2 and "Nothing imported: missing columns" in refused.output


@pytest.mark.usefixtures("jobline_cli")
def test_applications_list_and_set_stage(seeker: Seeker, database: Database) -> None:
    register(seeker)
    seeker.send("jobs")
    seeker.send("2")
    found = REFERENCE.search(seeker.says("1"))
    assert found is not None
    reference = found.group(1)
    listed = json.loads(jobline("applications", "list", "--format", "json").output)
    assert [(r["reference"], r["phone"], r["job_code"], r["stage"]) for r in listed] == [
        (reference, "+8613800000001", "HRB-SECURITY-1", "submitted")
    ]
    moved = jobline("applications", "set-stage", reference, "hired")
    assert moved.exit_code == 0 and f"{reference} is now hired" in moved.output
    assert "you got the job" in seeker.says("status")
    wrong = jobline("applications", "set-stage", "QQQQ", "hired")
    assert wrong.exit_code == 1 and "no application with reference 'QQQQ'" in wrong.output


@pytest.mark.usefixtures("jobline_cli")
def test_handoff_list_reply_and_close(seeker: Seeker, database: Database) -> None:
    register(seeker)
    seeker.send("9")
    assert seeker.send("Where is the office?") == []
    waiting = jobline("handoff", "list")
    assert "+8613800000001  Wang Lei  console" in waiting.output
    assert "'Where is the office?'" in waiting.output
    sent = jobline("handoff", "reply", "13800000001", "88 Zhongshan Road, room 201.")
    assert sent.exit_code == 0
    assert seeker.send("thanks") == ["Caseworker: 88 Zhongshan Road, room 201."]
    closed = jobline("handoff", "close", "+86 138 0000 0001")
    assert closed.exit_code == 0
    with database.sessions() as session:
        handoff = session.scalar(select(Handoff))
        conversation = session.scalar(select(Conversation))
        kinds = [r.kind for r in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
        assert handoff is not None and handoff.status == "closed" and handoff.closed_at
        assert conversation is not None and conversation.flow is None
    assert kinds[-2:] == ["caseworker", "caseworker"]
    replies = seeker.send("jobs")
    assert replies[0].startswith("The caseworker has finished")
    assert replies[1].startswith("Jobs in Daoli")
    assert "(nobody is waiting)" in jobline("handoff", "list").output
    again = jobline("handoff", "close", "13800000001")
    assert again.exit_code == 1 and "no open request" in again.output
    stranger = jobline("handoff", "reply", "13900000009", "hi")
    assert stranger.exit_code == 1 and "no seeker with phone" in stranger.output


@pytest.mark.usefixtures("jobline_cli")
def test_test_seekers_are_not_exported(seeker: Seeker, database: Database) -> None:
    register(seeker)
    with transaction(database.sessions) as session:
        new_test_seeker(session, "en", utcnow())
    exported = json.loads(jobline("seekers", "export").output)
    assert [row["phone"] for row in exported] == ["+8613800000001"]


@pytest.mark.usefixtures("jobline_cli")
def test_jobs_list_filters_and_close(database: Database) -> None:
    closed = jobline("jobs", "close", "HRB-SECURITY-1")
    assert closed.exit_code == 0 and "HRB-SECURITY-1 is closed" in closed.output
    rows = json.loads(jobline("jobs", "list", "--status", "withdrawn", "--format", "json").output)
    assert [row["code"] for row in rows] == ["HRB-SECURITY-1"]
    missing = jobline("jobs", "close", "NOPE-1")
    assert missing.exit_code == 1 and "no job post with code 'NOPE-1'" in missing.output
