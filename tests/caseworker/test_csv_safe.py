"""Every CSV export writes formula-like cells as text, so a spreadsheet never runs them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from bot.database import open_database
from bot.settings import load_settings
from caseworker.csv_safe import safe_cell, write_csv
from db.models import Seeker, utcnow
from db.session import transaction
from tests.bot.test_cli import run

NAMES = [
    ('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'),
    ("+SUM(1,2)", "'+SUM(1,2)"),
    ("@cmd", "'@cmd"),
    ("-2+3", "'-2+3"),
    ("\tWang", "'\tWang"),
    ("\rWang", "'\rWang"),
    ("Wang Lei", "Wang Lei"),
    ("王磊", "王磊"),
    ("+8613800000001", "+8613800000001"),
    ("-3", "-3"),
]


def test_formula_cells_get_a_quote_and_plain_ones_do_not() -> None:
    for given, written in NAMES:
        assert safe_cell(given) == written, given
    assert safe_cell(-3) == -3 and safe_cell(None) is None


def test_write_csv_escapes_every_cell() -> None:
    out = io.StringIO()
    write_csv(out, ["name", "note"], [{"name": "=1+1", "note": "@x", "other": "=ignored"}])
    assert list(csv.DictReader(io.StringIO(out.getvalue()))) == [{"name": "'=1+1", "note": "'@x"}]


def test_seekers_export_csv_cannot_run_a_formula(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'export.db'}"
    database = open_database(load_settings(database_url=url, load_demo_data=False))
    with transaction(database.sessions) as session:
        for n, (name, _) in enumerate(NAMES):
            phone = f"+86138000000{n:02d}"
            session.add(Seeker(phone=phone, name=name, interests=[], created_at=utcnow()))
    database.engine.dispose()
    done = run(["seekers", "export", "--format", "csv"], url)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout, newline="")))
    # The command's output is read in text mode, where a CR comes back as a newline.
    assert [row["name"] for row in rows] == [w.replace("\r", "\n") for _, w in NAMES]
    assert rows[0]["phone"] == "+8613800000000"
