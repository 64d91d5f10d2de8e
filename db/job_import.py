"""Import job posts from a caseworker's CSV (UTF-8 or GBK): idempotent, every bad row explained."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import JobPost
from reference import Reference

REQUIRED = ("code", "title", "employer", "category", "place", "pay_yuan_month", "hours", "suits")
OPTIONAL = ("public_welfare", "openings", "status")
LIMITS = {"code": 40, "title": 120, "employer": 120, "hours": 80, "suits": 160}
YES = {"1", "yes", "y", "true", "是", "公益"}
NO = {"", "0", "no", "n", "false", "否"}
STATUSES = {"open", "withdrawn"}
MAX_PAY = 100_000


class BadJobFile(ValueError):
    """The file cannot be read at all (encoding, missing columns); the message says why."""


@dataclass(frozen=True)
class JobRow:
    """One valid row, in stored form."""

    code: str
    title: str
    employer: str
    category: str
    place: str
    pay_yuan_month: int
    hours: str
    suits: str
    public_welfare: bool
    openings: int
    status: str


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not imported: its line in the file and the reason."""

    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did; held_back counts good rows not imported because others were bad."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    held_back: int = 0


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GBK/GB18030 as Excel in China saves it."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadJobFile("the file is neither UTF-8 nor GBK text; save it as CSV UTF-8")


def parse(text: str, reference: Reference) -> tuple[list[JobRow], list[RejectedRow]]:
    """Valid rows and rejected rows; a file without the needed columns is refused whole."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        raise BadJobFile("the file is empty")
    reader.fieldnames = [(name or "").strip().lower() for name in reader.fieldnames]
    missing = [name for name in REQUIRED if name not in reader.fieldnames]
    if missing:
        raise BadJobFile(f"missing columns: {', '.join(missing)}")
    rows: list[JobRow] = []
    rejected: list[RejectedRow] = []
    seen: set[str] = set()
    for raw in reader:
        line = reader.line_num
        try:
            row = read_row(raw, reference)
        except ValueError as error:
            rejected.append(RejectedRow(line, str(error)))
            continue
        if row.code in seen:
            rejected.append(RejectedRow(line, f"code {row.code} appears twice in the file"))
            continue
        seen.add(row.code)
        rows.append(row)
    return rows, rejected


def _cell(raw: Mapping[str | None, str | list[str] | None], name: str) -> str:
    value = raw.get(name)
    return value.strip() if isinstance(value, str) else ""


def read_row(raw: Mapping[str | None, str | list[str] | None], reference: Reference) -> JobRow:
    """One post's cells (named by column) in stored form; a ValueError says what is wrong."""
    if raw.get(None):
        raise ValueError("more cells than columns")
    values = {name: _cell(raw, name) for name in (*REQUIRED, *OPTIONAL)}
    for name in REQUIRED:
        if not values[name]:
            raise ValueError(f"{name} is empty")
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            raise ValueError(f"{name} is longer than {limit} characters")
    category = reference.match_category(values["category"])
    if category.value is None or not category.exact:
        raise ValueError(f"unknown kind of work {values['category']!r}")
    place = reference.match_place(values["place"])
    if place.value is None or not place.exact:
        hint = f" (did you mean {', '.join(place.suggestions)}?)" if place.suggestions else ""
        raise ValueError(f"unknown place {values['place']!r}{hint}")
    pay_text = values["pay_yuan_month"].lower().replace(",", "").replace("yuan", "").strip()
    if not pay_text.isdigit() or not 0 < int(pay_text) <= MAX_PAY:
        raise ValueError(f"pay_yuan_month must be yuan a month, like 1800: {pay_text!r}")
    welfare = values["public_welfare"].lower()
    if welfare not in YES | NO:
        raise ValueError(f"public_welfare must be yes or no: {welfare!r}")
    openings = values["openings"] or "1"
    if not openings.isdigit() or int(openings) < 1:
        raise ValueError(f"openings must be a whole number from 1: {openings!r}")
    status = values["status"].lower() or "open"
    if status not in STATUSES:
        raise ValueError(f"status must be open or withdrawn: {status!r}")
    return JobRow(
        code=values["code"],
        title=values["title"],
        employer=values["employer"],
        category=category.value,
        place=place.value,
        pay_yuan_month=int(pay_text),
        hours=values["hours"],
        suits=values["suits"],
        public_welfare=welfare in YES,
        openings=int(openings),
        status=status,
    )


def import_jobs(
    session: Session,
    data: bytes,
    reference: Reference,
    now: datetime,
    *,
    whole_file: bool = False,
) -> ImportReport:
    """Add and update posts by code (twice is a no-op); whole_file: one bad row, nothing added."""
    rows, rejected = parse(decode(data), reference)
    if whole_file and rejected:
        return ImportReport(rejected=rejected, held_back=len(rows))
    report = ImportReport(rejected=rejected)
    existing = {
        post.code: post
        for post in session.scalars(select(JobPost).where(JobPost.code.in_([r.code for r in rows])))
    }
    for row in rows:
        post = existing.get(row.code)
        if post is None:
            add_post(session, row, reference, now)
            report.added += 1
        elif update_post(post, row, reference):
            report.updated += 1
        else:
            report.unchanged += 1
    session.flush()
    return report


def add_post(session: Session, row: JobRow, reference: Reference, now: datetime) -> JobPost:
    """A new post from a checked row, placed on the map by its place."""
    info = reference.place(row.place)
    post = JobPost(
        **{f.name: getattr(row, f.name) for f in fields(row)},
        lat=info.lat if info else None,
        lon=info.lon if info else None,
        created_at=now,
    )
    session.add(post)
    return post


def update_post(post: JobPost, row: JobRow, reference: Reference) -> bool:
    """Copy a checked row onto a post; True when anything changed."""
    if post.place != row.place:  # a post that moved goes on the map where it now is
        info = reference.place(row.place)
        post.lat, post.lon = (info.lat, info.lon) if info else (None, None)
    changed = False
    for item in fields(row):
        if getattr(post, item.name) != getattr(row, item.name):
            setattr(post, item.name, getattr(row, item.name))
            changed = True
    return changed
