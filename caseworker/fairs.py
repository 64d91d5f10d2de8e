"""Job fairs as a caseworker keeps them: add and change one, who joined, a poster's QR code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import segno
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from caseworker.casework import CaseworkError, real_seeker
from db.models import FairSubscription, JobFair, Seeker
from db.problems import Problem
from notify.broadcasts import fair_when
from notify.fairs import add_fair, local_time
from reference import Reference

LIMITS = {"name": 160, "venue": 160}


@dataclass(frozen=True)
class FairForm:
    """What a caseworker typed for a fair; starts is local time 'YYYY-MM-DD HH:MM'."""

    name: str
    starts: str
    venue: str
    district: str


@dataclass(frozen=True)
class CheckedFair:
    """A fair form that passed every check, in stored form."""

    name: str
    starts_at: datetime
    venue: str
    district: str


def check_fair(
    form: FairForm, *, timezone: str, reference: Reference, now: datetime
) -> CheckedFair:
    """The stored form of a fair, or a CaseworkError saying what to change."""
    name, venue = " ".join(form.name.split()), " ".join(form.venue.split())
    if not name:
        raise CaseworkError("The fair's name is empty.", "fair_name_empty")
    if len(name) > LIMITS["name"]:
        raise CaseworkError(
            f"The fair's name is longer than {LIMITS['name']} characters.",
            "fair_name_long",
            limit=LIMITS["name"],
        )
    if not venue:
        raise CaseworkError("The fair's venue is empty.", "fair_venue_empty")
    if len(venue) > LIMITS["venue"]:
        raise CaseworkError(
            f"The fair's venue is longer than {LIMITS['venue']} characters.",
            "fair_venue_long",
            limit=LIMITS["venue"],
        )
    try:
        starts_at = local_time(form.starts.replace("T", " "), timezone)
    except Problem as error:
        raise CaseworkError(str(error), error.key, **error.values) from None
    if starts_at <= now:
        raise CaseworkError(
            f"{form.starts.strip()} is in the past; a fair must start later.",
            "fair_in_past",
            given=form.starts.strip().replace("T", " "),
        )
    place = reference.match_place(form.district)
    if place.value is None or not place.exact:
        hint = f" Did you mean {', '.join(place.suggestions[:3])}?" if place.suggestions else ""
        raise CaseworkError(
            f"Unknown district {form.district.strip()!r}.{hint}",
            "unknown_place_hint" if place.suggestions else "unknown_place",
            given=form.district.strip(),
            hint=", ".join(place.suggestions[:3]),
        )
    return CheckedFair(name, starts_at, venue, place.value)


def save_fair(
    session: Session,
    form: FairForm,
    *,
    timezone: str,
    reference: Reference,
    now: datetime,
    fair_id: int | None = None,
) -> JobFair:
    """Add a fair, or change the one with fair_id; refuses a fair in the past."""
    checked = check_fair(form, timezone=timezone, reference=reference, now=now)
    if fair_id is None:
        return add_fair(
            session,
            name=checked.name,
            starts_at=checked.starts_at,
            venue=checked.venue,
            district=checked.district,
            now=now,
        )
    fair = session.get(JobFair, fair_id)
    if fair is None:
        raise CaseworkError(f"No job fair with id {fair_id}.", "no_fair", number=fair_id)
    fair.name, fair.starts_at = checked.name, checked.starts_at
    fair.venue, fair.district = checked.venue, checked.district
    session.flush()
    return fair


@dataclass(frozen=True)
class FairRow:
    """A fair with how many joined (JOIN) and how many said they will come (RSVP)."""

    id: int
    name: str
    starts: str
    starts_at: datetime
    venue: str
    district: str
    subscribers: int
    attending: int


def fair_totals(session: Session, *fair_ids: int) -> dict[int, tuple[int, int]]:
    """(subscribers, coming) by fair, for these fairs or all (test seekers left out)."""
    query = (
        select(
            FairSubscription.fair_id,
            func.count(),
            func.sum(case((FairSubscription.attending.is_(True), 1), else_=0)),
        )
        .where(real_seeker(FairSubscription.seeker_id))
        .group_by(FairSubscription.fair_id)
    )
    if fair_ids:
        query = query.where(FairSubscription.fair_id.in_(fair_ids))
    return {
        fair_id: (int(joined), int(coming or 0))
        for fair_id, joined, coming in session.execute(query)
    }


def list_fairs(session: Session, timezone: str) -> list[FairRow]:
    """Every fair by start time, with its counts (test seekers left out)."""
    counts = fair_totals(session)
    rows = []
    for fair in session.scalars(select(JobFair).order_by(JobFair.starts_at, JobFair.id)):
        joined, coming = counts.get(fair.id, (0, 0))
        rows.append(
            FairRow(
                fair.id,
                fair.name,
                fair_when(fair, timezone),
                fair.starts_at,
                fair.venue,
                fair.district,
                joined,
                coming,
            )
        )
    return rows


@dataclass(frozen=True)
class FairPerson:
    """A seeker who joined a fair's alerts, and whether they said they will come."""

    seeker_id: int
    name: str | None
    phone: str | None
    language: str
    attending: bool
    joined_at: datetime


def fair_people(
    session: Session, fair_id: int, limit: int | None = None, offset: int = 0
) -> list[FairPerson]:
    """The fair's subscribers, those coming first, then by when they joined (index order)."""
    order = (
        FairSubscription.attending.desc(),
        FairSubscription.created_at,
        FairSubscription.seeker_id,
    )
    # The page is found in the fair's index alone; only its people are joined.
    shown = (
        select(FairSubscription.seeker_id)
        .where(FairSubscription.fair_id == fair_id, real_seeker(FairSubscription.seeker_id))
        .order_by(*order)
        .offset(offset)
    )
    page = (shown.limit(limit) if limit is not None else shown).subquery()
    rows = session.execute(
        select(Seeker, FairSubscription)
        .join(page, page.c.seeker_id == Seeker.id)
        .join(FairSubscription, FairSubscription.seeker_id == Seeker.id)
        .where(FairSubscription.fair_id == fair_id)
        .order_by(*order)
    ).all()
    return [
        FairPerson(
            seeker.id,
            seeker.name,
            seeker.phone,
            seeker.language,
            subscription.attending,
            subscription.created_at,
        )
        for seeker, subscription in rows
    ]


def poster_qr_svg(link: str, scale: int = 8) -> str:
    """An SVG QR code of the link, for a printable poster."""
    return str(segno.make(link, error="m").svg_inline(scale=scale, title=link))
