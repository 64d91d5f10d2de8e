"""Importing job posts from CSV: UTF-8 and GBK, idempotent, every rejected row explained."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.database import Database
from db.job_import import BadJobFile, decode, import_jobs
from db.models import JobPost, utcnow
from db.session import transaction
from reference import load_reference

HEADER = "code,title,employer,category,place,pay_yuan_month,hours,suits,public_welfare\n"
GOOD = (
    HEADER
    + 'NG-CLEAN-9,道路保洁员,南岗区环卫所,保洁,南岗区,"1,800",每天5:00-11:00,40-60岁,是\n'
    + "DL-GUARD-9,Night guard,Daoli Mall,security guard,daoly,2100,Nights,Men up to 60,no\n"
)


def run(database: Database, data: bytes) -> tuple[int, int, int, list[str]]:
    with transaction(database.sessions) as session:
        report = import_jobs(session, data, load_reference(), utcnow())
    return (
        report.added,
        report.updated,
        report.unchanged,
        [f"{r.line}: {r.reason}" for r in report.rejected],
    )


def post(database: Database, code: str) -> JobPost:
    with database.sessions() as session:
        found = session.scalar(select(JobPost).where(JobPost.code == code))
        assert found is not None
        return found


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_utf8_and_gbk_files_import_the_same(database: Database, encoding: str) -> None:
    assert run(database, GOOD.encode(encoding)) == (2, 0, 0, [])
    cleaner = post(database, "NG-CLEAN-9")
    assert (cleaner.title, cleaner.category, cleaner.place) == ("道路保洁员", "cleaning", "Nangang")
    assert cleaner.pay_yuan_month == 1800 and cleaner.public_welfare is True
    guard = post(database, "DL-GUARD-9")
    assert (guard.category, guard.place, guard.public_welfare) == ("security", "Daoli", False)
    assert guard.lat is not None and guard.status == "open"


def test_importing_twice_changes_nothing_and_changed_rows_update(database: Database) -> None:
    data = GOOD.encode()
    run(database, data)
    with database.sessions() as session:
        before = session.scalar(select(func.count(JobPost.id)))
    assert run(database, data) == (0, 0, 2, [])
    changed = data.replace(b"2100", b"2300") + (
        b"HRB-CLEAN-1,Road cleaner,Nangang Sanitation Team,cleaning,Nangang,1700,"
        b"Mon-Sat 5:00-11:00,Anyone fit for outdoor work,yes\n"
    )
    assert run(database, changed) == (0, 1, 2, [])
    assert post(database, "DL-GUARD-9").pay_yuan_month == 2300
    with database.sessions() as session:
        assert session.scalar(select(func.count(JobPost.id))) == before


def test_withdrawing_by_csv(database: Database) -> None:
    run(database, GOOD.encode())
    withdrawn = (HEADER.rstrip("\n") + ",status\n").encode() + (
        b"DL-GUARD-9,Night guard,Daoli Mall,security,Daoli,2100,Nights,Men up to 60,no,withdrawn\n"
    )
    assert run(database, withdrawn) == (0, 1, 0, [])
    assert post(database, "DL-GUARD-9").status == "withdrawn"


def test_bad_rows_are_rejected_with_their_line_and_reason(database: Database) -> None:
    rows = (
        HEADER
        + "A1,Cook,Canteen,cooking,Nangangg,2000,Days,Anyone,no\n"
        + "A2,Cook,Canteen,astronaut,Daoli,2000,Days,Anyone,no\n"
        + "A3,Cook,Canteen,cooking,Daoli,lots,Days,Anyone,no\n"
        + "A4,,Canteen,cooking,Daoli,2000,Days,Anyone,no\n"
        + "A5,Cook,Canteen,cooking,Daoli,2000,Days,Anyone,maybe\n"
        + "A6,Cook,Canteen,cooking,Daoli,2000,Days,Anyone,no,extra,cells\n"
        + "A7,Cook,Canteen,cooking,Daoli,2000,Days,Anyone,no\n"
        + "A7,Cook again,Canteen,cooking,Daoli,2000,Days,Anyone,no\n"
    )
    added, _, _, rejected = run(database, rows.encode())
    assert added == 1
    assert rejected == [
        "2: unknown place 'Nangangg' (did you mean Nangang?)",
        "3: unknown kind of work 'astronaut'",
        "4: pay_yuan_month must be yuan a month, like 1800: 'lots'",
        "5: title is empty",
        "6: public_welfare must be yes or no: 'maybe'",
        "7: more cells than columns",
        "9: code A7 appears twice in the file",
    ]


def test_a_file_without_the_columns_or_not_text_is_refused_whole(database: Database) -> None:
    with pytest.raises(BadJobFile, match="missing columns: pay_yuan_month, hours, suits"):
        run(database, b"code,title,employer,category,place\nA,B,C,cleaning,Daoli\n")
    with pytest.raises(BadJobFile, match="empty"):
        run(database, b"")
    with pytest.raises(BadJobFile, match="neither UTF-8 nor GBK"):
        decode(b"code,title\n\xff\xfe\xff\n")
    with database.sessions() as session:
        assert session.scalar(select(func.count(JobPost.id)).where(JobPost.code == "A")) == 0
