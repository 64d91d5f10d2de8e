"""Job posts as a caseworker keeps them: find, add, change, close, import a CSV (CLI, dashboard)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from caseworker.casework import CaseworkError
from db.job_import import (
    OPTIONAL,
    REQUIRED,
    BadCell,
    BadJobFile,
    ImportReport,
    add_post,
    import_jobs,
    read_row,
    update_post,
)
from db.models import JobPost
from reference import Reference

# The fields of a post, in the order the CSV and the form list them.
POST_FIELDS = (*REQUIRED, *OPTIONAL)
PER_PAGE = 50


@dataclass(frozen=True)
class JobFilter:
    """Which posts to list: words in the code, title or employer; a place, kind, status."""

    words: str = ""
    place: str = ""
    category: str = ""
    status: str = ""

    def condition(self) -> ColumnElement[bool]:
        """The SQL condition for these posts."""
        wanted: ColumnElement[bool] = true()
        words = self.words.strip().lower()
        if words:
            like = f"%{words.replace('%', '').replace('_', '')}%"
            wanted = and_(
                wanted,
                or_(
                    func.lower(JobPost.code).like(like),
                    func.lower(JobPost.title).like(like),
                    func.lower(JobPost.employer).like(like),
                ),
            )
        if self.place:
            wanted = and_(wanted, JobPost.place == self.place)
        if self.category:
            wanted = and_(wanted, JobPost.category == self.category)
        if self.status:
            wanted = and_(wanted, JobPost.status == self.status)
        return wanted


@dataclass(frozen=True)
class JobPage:
    """One page of posts and how many match in all."""

    posts: list[JobPost]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the matches fill (at least one)."""
        return max(1, -(-self.total // self.per_page))


def find_posts(
    session: Session, wanted: JobFilter, page: int = 1, per_page: int | None = PER_PAGE
) -> JobPage:
    """Posts by place and code; per_page None lists them all."""
    condition = wanted.condition()
    total = int(session.scalar(select(func.count()).select_from(JobPost).where(condition)) or 0)
    query = select(JobPost).where(condition).order_by(JobPost.place, JobPost.code)
    page = max(1, page)
    if per_page is not None:
        query = query.limit(per_page).offset((page - 1) * per_page)
    posts = list(session.scalars(query))
    return JobPage(posts, total, page, per_page or max(1, total))


def post_fields(post: JobPost) -> dict[str, str]:
    """A post as the form and the CSV write it."""
    values = {name: str(getattr(post, name)) for name in POST_FIELDS}
    values["public_welfare"] = "yes" if post.public_welfare else "no"
    return values


def save_post(
    session: Session,
    values: Mapping[str, str],
    reference: Reference,
    now: datetime,
    post_id: int | None = None,
) -> JobPost:
    """Add a post, or change the one with post_id, from cells named as the CSV columns."""
    try:
        row = read_row({name: values.get(name, "") for name in POST_FIELDS}, reference)
    except BadCell as error:
        raise CaseworkError(str(error), error.key, **error.values) from None
    same_code = session.scalar(select(JobPost).where(JobPost.code == row.code))
    if same_code is not None and same_code.id != post_id:
        raise CaseworkError(
            f"code {row.code} is already used by another post", "code_used", code=row.code
        )
    if post_id is None:
        post = add_post(session, row, reference, now)
    else:
        found = session.get(JobPost, post_id)
        if found is None:
            raise CaseworkError(f"no job post with id {post_id}", "no_post")
        post = found
        update_post(post, row, reference)
    session.flush()
    return post


def close_post(session: Session, code: str) -> JobPost:
    """Withdraw a post: seekers no longer see it; its applications stay."""
    post = session.scalar(select(JobPost).where(JobPost.code == code.strip()))
    if post is None:
        raise CaseworkError(
            f"no job post with code {code.strip()!r}", "no_post_code", code=code.strip()
        )
    post.status = "withdrawn"
    session.flush()
    return post


def import_posts(
    session: Session, data: bytes, reference: Reference, now: datetime, *, whole_file: bool
) -> ImportReport:
    """Import a CSV of posts (UTF-8 or GBK); whole_file refuses all of it if a row is bad."""
    try:
        return import_jobs(session, data, reference, now, whole_file=whole_file)
    except BadJobFile as error:
        raise CaseworkError(f"Nothing imported: {error}", error.key, **error.values) from None


def report_lines(report: ImportReport) -> list[str]:
    """What an import did, then one line per rejected row (as the CLI prints it)."""
    if report.held_back:
        head = (
            f"Nothing imported: {len(report.rejected)} rejected, {report.held_back} good rows "
            "held back. Fix the rows below and upload the file again."
        )
    else:
        head = (
            f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
            f"{len(report.rejected)} rejected"
        )
    return [head, *(f"line {row.line}: {row.reason}" for row in report.rejected)]
