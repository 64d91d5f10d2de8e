"""The jobline command, run as a user would: chat --json and seekers export."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

JOBLINE = [sys.executable, "-m", "bot.cli"]


def run(args: list[str], database_url: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    # Keyword-only: these tests are about the command, not Rasa (tests/nlu start Rasa).
    env = {**os.environ, "JOBLINE_DATABASE_URL": database_url, "JOBLINE_NLU__MANAGED": "false"}
    return subprocess.run(
        [*JOBLINE, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_chat_json_then_export(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    lines = "register\nWang Lei\n1972\n1\nDaoli\n1 4\n1\n1\n"
    done = run(["chat", "--phone", "13800000001", "--json"], url, lines)
    assert done.returncode == 0, done.stderr
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert sum(1 for o in objects if o.get("turn_end")) == 8
    assert "You are registered" in objects[-2]["text"]

    exported = run(["seekers", "export", "--format", "json"], url)
    seekers = json.loads(exported.stdout)
    assert seekers[0]["phone"] == "+8613800000001"
    assert seekers[0]["name"] == "Wang Lei" and seekers[0]["interests"] == ["cleaning", "cooking"]
    assert seekers[0]["registered_at"]

    as_csv = run(["seekers", "export", "--format", "csv"], url)
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert rows[0]["district"] == "Daoli" and rows[0]["interests"] == "cleaning cooking"


def test_bad_phone_is_one_clear_line(tmp_path: Path) -> None:
    done = run(["chat", "--phone", "not-a-number"], f"sqlite:///{tmp_path / 'x.db'}")
    assert done.returncode == 2 and "Not a phone number" in done.stderr


@pytest.mark.parametrize("bad", ["mysql://nowhere", "sqlite"])
def test_invalid_setting_stops_start_up_naming_it(tmp_path: Path, bad: str) -> None:
    done = run(["seekers", "export"], bad)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "database_url" in done.stderr
