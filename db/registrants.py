"""Caseworkers' registrant lists (CSV) into seekers with an SMS contact, idempotent by phone."""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from db.models import Contact, Seeker, utcnow
from db.phones import BadPhone, normalize_phone
from db.session import transaction
from reference import Reference

REQUIRED = ("phone", "name", "district", "language")
YES = {"yes", "y", "1", "true"}
NO = {"no", "n", "0", "false"}
BATCH = 500
# Seekers.name holds this many characters.
MAX_NAME = 80


class BadRow(ValueError):
    """A row that cannot be imported; the message says why, in a caseworker's words."""


@dataclass
class ImportResult:
    """What an import did."""

    added: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Registrant:
    """One valid row: the profile fields it sets (None: not given)."""

    phone: str
    fields: dict[str, Any]
    line: int = 0


def yes_no(value: str, column: str) -> bool | None:
    """'yes'/'no' (and 1/0, true/false); empty means not given."""
    word = value.strip().lower()
    if not word:
        return None
    if word in YES:
        return True
    if word in NO:
        return False
    raise BadRow(f"{column} must be yes or no, not {value!r}")


def parse_row(
    row: dict[str, str], reference: Reference, region: str, languages: Iterable[str]
) -> Registrant:
    """Check one CSV row and turn it into profile fields."""
    for column, value in row.items():
        if any(unicodedata.category(char) == "Cc" for char in value):
            raise BadRow(f"{column} has a control character (such as NUL) in it")
    try:
        phone = normalize_phone(row.get("phone") or "", region)
    except BadPhone:
        raise BadRow(f"phone {row.get('phone')!r} is not a phone number") from None
    name = (row.get("name") or "").strip()
    if not name:
        raise BadRow("name is empty")
    if len(name) > MAX_NAME:
        raise BadRow(f"name is {len(name)} characters long; at most {MAX_NAME}")
    place = reference.match_place(row.get("district") or "")
    if place.value is None or not place.exact:
        hint = f" (did you mean {', '.join(place.suggestions[:3])}?)" if place.suggestions else ""
        raise BadRow(f"district {row.get('district')!r} is not a place we know{hint}")
    language = (row.get("language") or "").strip().lower()
    if language not in set(languages):
        raise BadRow(f"language {language!r} is not one of {', '.join(sorted(languages))}")
    fields: dict[str, Any] = {"name": name, "district": place.value, "language": language}
    fields["alerts"] = yes_no(row.get("alerts") or "", "alerts")
    fields["concession_card"] = yes_no(row.get("concession_card") or "", "concession_card")
    if (row.get("birth_year") or "").strip():
        year = row["birth_year"].strip()
        if not (year.isdigit() and 1930 <= int(year) <= 2010):
            raise BadRow(f"birth_year {year!r} is not a year like 1972")
        fields["birth_year"] = int(year)
    gender = (row.get("gender") or "").strip().lower()
    if gender:
        if gender not in ("man", "woman"):
            raise BadRow(f"gender must be man or woman, not {gender!r}")
        fields["gender"] = gender
    interests = (row.get("interests") or "").replace(";", " ").replace(",", " ").split()
    if interests:
        unknown = [slug for slug in interests if reference.category(slug) is None]
        if unknown:
            raise BadRow(f"interests {', '.join(unknown)} are not kinds of work we know")
        fields["interests"] = interests
    return Registrant(phone, fields)


def read_rows(handle: TextIO) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows with their line numbers; the header must name the required columns."""
    reader = csv.DictReader(handle)
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise BadRow(f"the file has no column {', '.join(missing)} (needs {','.join(REQUIRED)})")
    reader.fieldnames = header
    for row in reader:
        yield reader.line_num, {key: (value or "") for key, value in row.items() if key}


def import_registrants(
    sessions: sessionmaker[Session],
    handle: TextIO,
    reference: Reference,
    region: str,
    languages: Iterable[str],
) -> ImportResult:
    """Add or update each listed seeker (never undoing a STOP), a batch per transaction."""
    result = ImportResult()
    languages = list(languages)
    batch: list[Registrant] = []
    seen: set[str] = set()
    for line, row in read_rows(handle):
        try:
            registrant = replace(parse_row(row, reference, region, languages), line=line)
        except BadRow as error:
            result.rejected.append((line, str(error)))
            continue
        if registrant.phone in seen:
            result.rejected.append((line, f"phone {registrant.phone} is listed twice"))
            continue
        seen.add(registrant.phone)
        batch.append(registrant)
        if len(batch) >= BATCH:
            _store(sessions, batch, result)
            batch = []
    _store(sessions, batch, result)
    return result


def _store(sessions: sessionmaker[Session], batch: list[Registrant], result: ImportResult) -> None:
    """Store a batch in one transaction, each row in its own savepoint: a bad row is reported."""
    if not batch:
        return
    now = utcnow()
    with transaction(sessions) as session:
        phones = [item.phone for item in batch]
        known = {
            s.phone: s for s in session.scalars(select(Seeker).where(Seeker.phone.in_(phones)))
        }
        have = set(
            session.scalars(
                select(Contact.address).where(Contact.channel == "sms", Contact.address.in_(phones))
            )
        )
        for item in batch:
            try:
                with session.begin_nested():
                    added = _store_one(
                        session, item, known.get(item.phone), item.phone in have, now
                    )
            except DBAPIError as error:
                # Only the row is lost, never the batch (on PostgreSQL an error aborts it all).
                known.pop(item.phone, None)
                reason = type(error.orig).__name__ if error.orig is not None else "error"
                result.rejected.append((item.line, f"could not be stored ({reason})"))
                continue
            if added:
                result.added += 1
            else:
                result.updated += 1


def _store_one(
    session: Session, item: Registrant, seeker: Seeker | None, has_contact: bool, now: Any
) -> bool:
    """Add or update one seeker and its SMS contact; True when added."""
    added = seeker is None
    if seeker is None:
        seeker = Seeker(phone=item.phone, interests=[], created_at=now, alerts=True)
        session.add(seeker)
    for name, value in item.fields.items():
        if value is not None:
            setattr(seeker, name, value)
    session.flush()
    if not has_contact:
        session.add(Contact(channel="sms", address=item.phone, seeker_id=seeker.id, created_at=now))
        session.flush()
    return added
