"""Job posts from the caseworker's side: the same checks as `jobs import`, close, filter, CSV."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.database import Database
from caseworker.casework import CaseworkError
from caseworker.jobs import (
    JobFilter,
    close_post,
    find_posts,
    import_posts,
    post_fields,
    report_lines,
    save_post,
)
from db.models import JobPost
from db.session import transaction
from reference import load_reference

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
GOOSE = {
    "code": "GN-GEESE-1",
    "title": "Goose keeper",
    "employer": "Gannan Farm",
    "category": "farming",
    "place": "Gannan",
    "pay_yuan_month": "2400",
    "hours": "Daily 6-14",
    "suits": "Anyone strong",
    "public_welfare": "yes",
    "openings": "2",
    "status": "open",
}
CSV = (
    b"code,title,employer,category,place,pay_yuan_month,hours,suits\n"
    b"GN-1,Goose keeper,Gannan Farm,farming,Gannan,2400,Daily,Anyone\n"
    b"GN-2,Goose keeper,Gannan Farm,juggling,Gannan,2400,Daily,Anyone\n"
    b"GN-3,Goose keeper,Gannan Farm,farming,Gannan,lots,Daily,Anyone\n"
)


def posts(database: Database) -> int:
    with database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(JobPost)) or 0)


def test_a_post_is_added_changed_and_closed(database: Database) -> None:
    reference = load_reference()
    with transaction(database.sessions) as session:
        post = save_post(session, GOOSE, reference, NOW)
        post_id = post.id
        assert (post.place, post.public_welfare, post.openings) == ("Gannan", True, 2)
        assert post.lat is not None
    with transaction(database.sessions) as session:
        edited = save_post(
            session, {**GOOSE, "place": "Daoli", "pay_yuan_month": "2600"}, reference, NOW, post_id
        )
        assert (edited.place, edited.pay_yuan_month) == ("Daoli", 2600)
        assert post_fields(edited)["public_welfare"] == "yes"
    with transaction(database.sessions) as session:
        assert close_post(session, "GN-GEESE-1").status == "withdrawn"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"place": "Atlantis"}, "unknown place 'Atlantis'"),
        ({"pay_yuan_month": "a lot"}, "pay_yuan_month must be yuan a month"),
        ({"title": ""}, "title is empty"),
        ({"openings": "0"}, "openings must be a whole number from 1"),
        ({"code": "HRB-SECURITY-1"}, "code HRB-SECURITY-1 is already used by another post"),
    ],
)
def test_a_bad_post_is_refused_with_its_reason(
    database: Database, change: dict[str, str], reason: str
) -> None:
    before = posts(database)
    with pytest.raises(CaseworkError, match=reason), transaction(database.sessions) as session:
        save_post(session, {**GOOSE, **change}, load_reference(), NOW)
    assert posts(database) == before


def test_filters_and_pages(database: Database) -> None:
    with database.sessions() as session:
        everything = find_posts(session, JobFilter(), per_page=None)
        security = find_posts(session, JobFilter(category="security"))
        page = find_posts(session, JobFilter(), page=2, per_page=3)
        words = find_posts(session, JobFilter(words="hrb-security-1"))
    assert everything.total == len(everything.posts) > 3
    assert security.total > 0 and {p.category for p in security.posts} == {"security"}
    assert len(page.posts) == 3 and page.posts[0].code == everything.posts[3].code
    assert page.pages == -(-everything.total // 3)
    assert [p.code for p in words.posts] == ["HRB-SECURITY-1"]


def test_a_csv_with_bad_rows_imports_nothing_when_whole_file(database: Database) -> None:
    before = posts(database)
    with transaction(database.sessions) as session:
        report = import_posts(session, CSV, load_reference(), NOW, whole_file=True)
    assert posts(database) == before
    assert report_lines(report) == [
        "Nothing imported: 2 rejected, 1 good rows held back. Fix the rows below and upload "
        "the file again.",
        "line 3: unknown kind of work 'juggling'",
        "line 4: pay_yuan_month must be yuan a month, like 1800: 'lots'",
    ]
    with transaction(database.sessions) as session:
        partial = import_posts(session, CSV, load_reference(), NOW, whole_file=False)
    assert report_lines(partial)[0] == "1 added, 0 updated, 0 unchanged, 2 rejected"
    assert posts(database) == before + 1
    with pytest.raises(CaseworkError, match="Nothing imported: missing columns"):
        import_posts(
            database.sessions(), b"code,title\nX,Y\n", load_reference(), NOW, whole_file=True
        )
