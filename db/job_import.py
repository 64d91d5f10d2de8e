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
from db.problems import Problem
from reference import Reference

REQUIRED = ("code", "title", "employer", "category", "place", "pay_yuan_month", "hours", "suits")
KEPT_WHEN_EMPTY = ("title_zh", "employer_zh", "hours_zh", "suits_zh")
OPTIONAL = ("public_welfare", "openings", "status", *KEPT_WHEN_EMPTY)
LIMITS = {
    "code": 40,
    "title": 120,
    "employer": 120,
    "hours": 80,
    "suits": 160,
    "title_zh": 120,
    "employer_zh": 120,
    "hours_zh": 80,
    "suits_zh": 160,
}
YES = {"1", "yes", "y", "true", "是", "公益"}
NO = {"", "0", "no", "n", "false", "否"}
STATUSES = {"open", "withdrawn"}
MAX_PAY = 100_000


class BadJobFile(Problem):
    """The file cannot be read at all (encoding, missing columns); the message says why."""


class BadCell(Problem):
    """A row's cell that cannot be stored; `field` names its column."""


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
    title_zh: str | None = None
    employer_zh: str | None = None
    hours_zh: str | None = None
    suits_zh: str | None = None


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not imported: its line in the file and the reason."""

    line: int
    reason: str
    problem: Problem | None = None


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
    raise BadJobFile(
        "the file is neither UTF-8 nor GBK text; save it as CSV UTF-8", "file_encoding"
    )


def parse(text: str, reference: Reference) -> tuple[list[JobRow], list[RejectedRow]]:
    """Valid rows and rejected rows; a file without the needed columns is refused whole."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        raise BadJobFile("the file is empty", "file_empty")
    reader.fieldnames = [(name or "").strip().lower() for name in reader.fieldnames]
    missing = [name for name in REQUIRED if name not in reader.fieldnames]
    if missing:
        raise BadJobFile(
            f"missing columns: {', '.join(missing)}", "file_columns", columns=", ".join(missing)
        )
    rows: list[JobRow] = []
    rejected: list[RejectedRow] = []
    seen: set[str] = set()
    for raw in reader:
        line = reader.line_num
        try:
            row = read_row(raw, reference)
        except BadCell as error:
            rejected.append(RejectedRow(line, str(error), error))
            continue
        if row.code in seen:
            twice = BadCell(
                f"code {row.code} appears twice in the file", "code_twice", code=row.code
            )
            rejected.append(RejectedRow(line, str(twice), twice))
            continue
        seen.add(row.code)
        rows.append(row)
    return rows, rejected


def _cell(raw: Mapping[str | None, str | list[str] | None], name: str) -> str:
    value = raw.get(name)
    return value.strip() if isinstance(value, str) else ""


def read_row(raw: Mapping[str | None, str | list[str] | None], reference: Reference) -> JobRow:
    """One post's cells (named by column) in stored form; a BadCell says what is wrong."""
    if raw.get(None):
        raise BadCell("more cells than columns", "cells_extra")
    values = {name: _cell(raw, name) for name in (*REQUIRED, *OPTIONAL)}
    for name in REQUIRED:
        if not values[name]:
            raise BadCell(f"{name} is empty", "cell_empty", field=name)
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            raise BadCell(
                f"{name} is longer than {limit} characters", "cell_long", field=name, limit=limit
            )
    category = reference.match_category(values["category"])
    if category.value is None or not category.exact:
        raise BadCell(
            f"unknown kind of work {values['category']!r}", "unknown_kind", given=values["category"]
        )
    place = reference.match_place(values["place"])
    if place.value is None or not place.exact:
        hint = f" (did you mean {', '.join(place.suggestions)}?)" if place.suggestions else ""
        raise BadCell(
            f"unknown place {values['place']!r}{hint}",
            "unknown_place_hint" if place.suggestions else "unknown_place",
            given=values["place"],
            hint=", ".join(place.suggestions),
        )
    pay_text = values["pay_yuan_month"].lower().replace(",", "").replace("yuan", "").strip()
    if not pay_text.isdigit() or not 0 < int(pay_text) <= MAX_PAY:
        raise BadCell(
            f"pay_yuan_month must be yuan a month, like 1800: {pay_text!r}",
            "bad_pay",
            field="pay_yuan_month",
            given=pay_text,
        )
    welfare = values["public_welfare"].lower()
    if welfare not in YES | NO:
        raise BadCell(
            f"public_welfare must be yes or no: {welfare!r}",
            "bad_yes_no",
            field="public_welfare",
            given=welfare,
        )
    openings = values["openings"] or "1"
    if not openings.isdigit() or int(openings) < 1:
        raise BadCell(
            f"openings must be a whole number from 1: {openings!r}",
            "bad_openings",
            field="openings",
            given=openings,
        )
    status = values["status"].lower() or "open"
    if status not in STATUSES:
        raise BadCell(
            f"status must be open or withdrawn: {status!r}",
            "bad_status",
            field="status",
            given=status,
        )
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
        title_zh=values["title_zh"] or None,
        employer_zh=values["employer_zh"] or None,
        hours_zh=values["hours_zh"] or None,
        suits_zh=values["suits_zh"] or None,
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
        if item.name in KEPT_WHEN_EMPTY and getattr(row, item.name) is None:
            continue  # a file without Chinese wording keeps the post's
        if getattr(post, item.name) != getattr(row, item.name):
            setattr(post, item.name, getattr(row, item.name))
            changed = True
    return changed
