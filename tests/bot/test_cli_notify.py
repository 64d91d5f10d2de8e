"""The caseworker's CLI: import a registrant list, add a fair, preview, send, report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import get_settings
from reference import load_reference

REGISTRANTS = """phone,name,district,language,alerts,interests
13800000011,Wang Lei,Daoli,en,yes,cleaning
13800000012,Li Na,Daoli,en,,security
13800000013,Zhao Min,Daoli,en,no,
abc,Nobody,Daoli,en,,
13800000014,Sun Li,Atlantis,en,,
13800000011,Wang Lei again,Daoli,en,,
"""


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("JOBLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def run(cli: CliRunner, *args: str, stdin: str | None = None) -> str:
    result = cli.invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_import_reports_rejected_rows_and_is_idempotent(cli: CliRunner, tmp_path: Path) -> None:
    listing = tmp_path / "registrants.csv"
    listing.write_text(REGISTRANTS)
    result = cli.invoke(app, ["seekers", "import", str(listing)])
    assert result.exit_code == 0
    assert "3 added, 0 updated, 3 rejected" in result.stdout
    assert "line 5: phone 'abc' is not a phone number" in result.stderr
    assert "line 6: district 'Atlantis' is not a place we know" in result.stderr
    assert "line 7: phone +8613800000011 is listed twice" in result.stderr
    again = cli.invoke(app, ["seekers", "import", str(listing)])
    assert "0 added, 3 updated, 3 rejected" in again.stdout
    exported = json.loads(run(cli, "seekers", "export"))
    alerts = {row["phone"]: row for row in exported}
    assert alerts["+8613800000011"]["interests"] == ["cleaning"]
    assert len(exported) == 3


def test_add_a_fair_preview_send_and_report(cli: CliRunner, tmp_path: Path) -> None:
    listing = tmp_path / "registrants.csv"
    listing.write_text(REGISTRANTS)
    cli.invoke(app, ["seekers", "import", str(listing)])
    fair_id = run(
        cli,
        "fairs", "add", "--name", "Daoli Spring Fair", "--starts", "2026-12-20 09:00",
        "--venue", "Daoli Hall", "--district", "daoli",
    ).strip()  # fmt: skip
    assert fair_id.isdigit()
    preview = run(cli, "broadcast", "--fair", fair_id, "--segment", "all", "--dry-run")
    assert "Segment all: 2 people (sms 2)" in preview  # Zhao Min said no to alerts
    assert "Job fair: Daoli Spring Fair, Sun 20 Dec, 9:00, Daoli Hall." in preview
    assert "Estimated cost: 0.10 yuan" in preview
    assert "Sends from " in preview
    declined = cli.invoke(app, ["broadcast", "--fair", fair_id], input="n\n")
    assert declined.exit_code == 1
    sent = run(cli, "broadcast", "--fair", fair_id, "--segment", "interest=security", "--yes")
    broadcast_id = sent.strip().splitlines()[-1]
    report = json.loads(run(cli, "broadcast", "report", broadcast_id, "--format", "json"))
    assert report["counts"]["queued"] == 1 and report["counts"]["sent"] == 0
    listed = json.loads(run(cli, "fairs", "list", "--json"))
    assert any(row["name"] == "Daoli Spring Fair" for row in listed)


def test_an_evening_announcement_waits_for_morning(cli: CliRunner, tmp_path: Path) -> None:
    listing = tmp_path / "registrants.csv"
    listing.write_text(REGISTRANTS)
    cli.invoke(app, ["seekers", "import", str(listing)])
    preview = run(
        cli, "broadcast", "--text", "Office closed Friday", "--at", "2026-12-20 22:00", "--dry-run"
    )
    assert "Sends from Mon 21 Dec 08:00 (after the quiet hours)" in preview
    assert "Office closed Friday. Reply STOP for no more texts." in preview


def test_bad_input_is_one_line_not_a_trace(cli: CliRunner) -> None:
    result = cli.invoke(app, ["broadcast", "--text", "hi", "--segment", "group=young"])
    assert result.exit_code == 2
    assert "unknown segment 'group=young'" in result.stderr
    result = cli.invoke(app, ["fairs", "add", "--name", "X", "--starts", "tomorrow",
                              "--venue", "Y", "--district", "Daoli"])  # fmt: skip
    assert result.exit_code == 2 and "not a time like" in result.stderr
    result = cli.invoke(app, ["broadcast", "--fair", "1", "--at", "2099-01-01 10:00"])
    assert result.exit_code == 2 and "starts before the broadcast would go" in result.stderr


def test_import_accepts_every_place_in_english_chinese_and_pinyin(
    cli: CliRunner, tmp_path: Path
) -> None:
    places = load_reference().places
    rows = ["phone,name,district,language"]
    for n, place in enumerate(places):
        rows.append(f"1380001{n:04d},Seeker {n},{place.name},en")
        rows.append(f"1380002{n:04d},Seeker {n},{place.zh},zh")
    for n, typed in enumerate(("daowai", "Song Bei", "pingfang qu", "XIANGFANG")):
        rows.append(f"1380003{n:04d},Harbin {n},{typed},en")
    listing = tmp_path / "registrants.csv"
    listing.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = cli.invoke(app, ["seekers", "import", str(listing)])
    assert result.exit_code == 0, result.stderr
    assert f"{2 * len(places) + 4} added, 0 updated, 0 rejected" in result.stdout
    districts = {row["district"] for row in json.loads(run(cli, "seekers", "export"))}
    assert districts == {place.name for place in places}
