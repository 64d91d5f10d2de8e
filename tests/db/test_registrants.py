"""Registrant lists: every row checked, good rows imported, bad rows reported by line."""

from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from bot.database import Database
from bot.logs import MaskingFormatter, mask_phones
from db.job_import import decode
from db.models import Seeker, utcnow
from db.registrants import import_registrants
from db.session import transaction
from reference import load_reference

HEADER = "phone,name,district,language\n"


def good_rows(count: int) -> str:
    return "".join(f"1380000{n:04d},Seeker {n},Daoli,en\n" for n in range(count))


def imported(database: Database, text: str) -> tuple[int, list[tuple[int, str]]]:
    result = import_registrants(
        database.sessions, io.StringIO(text), load_reference(), "CN", ["en", "zh"]
    )
    with database.sessions() as session:
        stored = session.scalar(select(func.count(Seeker.id))) or 0
    return stored, result.rejected


def test_bad_rows_are_reported_by_line_and_the_good_ones_imported(database: Database) -> None:
    rows = good_rows(5)
    rows += f"13900000001,{'W' * 5000},Daoli,en\n"
    rows += "13900000002,Wang\x00Lei,Daoli,en\n"
    rows += "13900000003,Li,Dao\x07li,en\n"
    rows += good_rows(11)[len(good_rows(5)) :]
    stored, rejected = imported(database, HEADER + rows)
    assert stored == 11
    assert rejected == [
        (7, "name is 5000 characters long; at most 80"),
        (8, "name has a control character (such as NUL) in it"),
        (9, "district has a control character (such as NUL) in it"),
    ]


def test_a_gbk_list_is_read_like_a_jobs_file(database: Database) -> None:
    data = (HEADER + "13800000001,王磊,道里,zh\n").encode("gbk")
    stored, rejected = imported(database, decode(data))
    assert (stored, rejected) == (1, [])


def test_errors_never_show_a_seekers_phone(database: Database) -> None:
    with pytest.raises(IntegrityError) as raised, transaction(database.sessions) as session:
        for _ in range(2):
            session.execute(
                insert(Seeker).values(
                    phone="+8613800000077", interests=[], language="en", created_at=utcnow()
                )
            )
    shown = str(raised.value)
    assert "hidden due to hide_parameters" in shown
    formatter = MaskingFormatter("%(message)s")
    record = logging.LogRecord("t", logging.ERROR, "", 0, "failed", None, None)
    record.exc_text = shown
    assert "+8613800000077" not in formatter.format(record)
    assert mask_phones("to +8613800000077 and 13800000077") == "to +86138****0077 and 138****0077"
