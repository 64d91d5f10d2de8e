"""The flows' Lookup port (flows/views.Lookup) on the database: a turn's reads, on one session."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, String, TypeDecorator, any_, bindparam, case, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from db.fast import Fast
from db.models import Application, FairSubscription, JobFair, JobPost
from flows.views import ApplicationView, FairView, JobView, NearbyPost
from reference import distance_km

# No 0/O or 1/I, so a reference read out over the phone cannot be misheard.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 4
REFERENCE_TRIES = 50


def random_reference() -> str:
    """Four characters from the unambiguous alphabet."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


# A post's columns as a job view needs them: read with Core, without loading ORM objects (the
# ORM's per-query work was a third of a job-search turn's CPU; bench/conversations.py --profile).
JOB_COLUMNS = (
    JobPost.id,
    JobPost.code,
    JobPost.title,
    JobPost.employer,
    JobPost.category,
    JobPost.place,
    JobPost.pay_yuan_month,
    JobPost.hours,
    JobPost.suits,
    JobPost.public_welfare,
    JobPost.status,
    JobPost.title_zh,
    JobPost.employer_zh,
    JobPost.hours_zh,
    JobPost.suits_zh,
)
JOB_BY_ID = select(*JOB_COLUMNS).where(JobPost.id == bindparam("job_id"))


def job_view(post: Any) -> JobView:
    """A post (its ORM object or a row of JOB_COLUMNS) as a plain value."""
    return JobView(
        id=post.id,
        code=post.code,
        title=post.title,
        employer=post.employer,
        category=post.category,
        place=post.place,
        pay_yuan_month=post.pay_yuan_month,
        hours=post.hours,
        suits=post.suits,
        public_welfare=post.public_welfare,
        open=post.status == "open",
        title_zh=post.title_zh,
        employer_zh=post.employer_zh,
        hours_zh=post.hours_zh,
        suits_zh=post.suits_zh,
    )


def application_view(application: Application) -> ApplicationView:
    """An application row as a plain value."""
    return ApplicationView(
        reference=application.reference,
        job_id=application.job_id,
        title=application.job.title,
        employer=application.job.employer,
        stage=application.stage,
        stage_changed_at=application.stage_changed_at,
        applied_at=application.created_at,
        title_zh=application.job.title_zh,
    )


def fair_view(fair: JobFair) -> FairView:
    """A fair row as a plain value."""
    return FairView(
        id=fair.id,
        name=fair.name,
        starts_at=fair.starts_at,
        venue=fair.venue,
        district=fair.district,
        employers=fair.employers,
        posts=fair.posts,
    )


# A job search's statement by its shape (the database, how many place levels, a kind or not,
# preferred kinds or not, the limit), built and compiled once: building it per search was a
# fifth of the CPU of the workload's turns. Each list is one parameter, whatever its length:
# - PostgreSQL: an array (`= ANY`) given as its literal (`array_literal`): psycopg converts a
#   query with over 50 parameters anew at every execution, and dumps a list element by element
#   in Python, a third of a job search's CPU with the province's ~140 places.
# - SQLite: a JSON array (`IN (SELECT value FROM json_each(...))`): an IN list of one parameter
#   a place cost 35 us of Python a search to name the 159 parameters (Daoli's three levels),
#   and SQLite's IN lists no less than json_each.
MOST_SHAPES = 512
Shape = tuple[bool, int, bool, bool, int | None]
_WIDENINGS: dict[Shape, Fast] = {}


def _widening(shape: Shape) -> Fast:
    """The statement of search_jobs_widening for searches of this shape."""
    found = _WIDENINGS.get(shape)
    if found is not None:
        return found
    arrays, levels, has_category, preferred, limit = shape

    def among(column: Any, name: str) -> Any:
        if arrays:
            return column == any_(bindparam(name, type_=PlacesLiteral()))
        listed = func.json_each(bindparam(name, type_=String)).table_valued("value")
        return column.in_(select(listed.c.value))

    near = case(
        *((among(JobPost.place, f"level_{index}"), index) for index in range(levels)),
        else_=levels,
    ).label("near")
    query = select(*JOB_COLUMNS, near).where(
        JobPost.status == "open", among(JobPost.place, f"level_{levels - 1}")
    )
    if has_category:
        query = query.where(JobPost.category == bindparam("category"))
    order = [JobPost.created_at.desc(), JobPost.id]
    if preferred:
        order.insert(0, case((among(JobPost.category, "prefer"), 0), else_=1))
    query = query.order_by(near, *order)
    if limit is not None:
        query = query.limit(limit)
    if len(_WIDENINGS) >= MOST_SHAPES:
        _WIDENINGS.clear()
    found = _WIDENINGS[shape] = Fast(query)
    return found


class PlacesLiteral(TypeDecorator[str]):
    """An array of strings bound as its text form (`array_literal`), unprocessed: the statement
    casts it to VARCHAR[] (SQLAlchemy's ARRAY would take the str for a list of characters)."""

    impl = ARRAY(String)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        """None: the text form goes to the driver as it is."""
        return None


def array_literal(items: Sequence[str]) -> str:
    """PostgreSQL's text form of an array of strings: psycopg passes a str without a type, so
    the statement's cast (`::VARCHAR[]`) parses it, once, as it binds the parameter."""
    joined = '","'.join(items)
    if "\\" in joined or '"' in joined:  # escaped item by item (no place name needs it)
        quoted = (item.replace("\\", "\\\\").replace('"', '\\"') for item in items)
        joined = '","'.join(quoted)
    return '{"' + joined + '"}' if items else "{}"


@lru_cache(maxsize=1024)
def places_literal(places: tuple[str, ...]) -> str:
    """`array_literal` of a place list, kept: a search's lists are its place's levels (the
    province's 139 names among them), the same few again and again."""
    return array_literal(places)


@lru_cache(maxsize=1024)
def places_json(places: tuple[str, ...]) -> str:
    """A place list as the JSON array SQLite's statement reads (`json_each`), kept as
    `places_literal` keeps PostgreSQL's."""
    return json.dumps(places, ensure_ascii=False)


class StoreLookup:
    """Answers the flows' read-only questions from the database."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._jobs: dict[int, JobView] = {}  # the posts this turn read, by id

    def search_jobs(
        self,
        places: Sequence[str],
        category: str | None,
        prefer: Sequence[str] = (),
        limit: int | None = None,
    ) -> list[JobView]:
        """Open jobs in these places, of this kind (any when None): preferred kinds, then newest."""
        query = select(*JOB_COLUMNS).where(
            JobPost.status == "open", JobPost.place.in_(list(places))
        )
        if category is not None:
            query = query.where(JobPost.category == category)
        preferred = case((JobPost.category.in_(list(prefer)), 0), else_=1) if prefer else None
        order = [JobPost.created_at.desc(), JobPost.id]
        query = query.order_by(*([preferred] if preferred is not None else []), *order)
        if limit is not None:
            query = query.limit(limit)
        jobs = [job_view(row) for row in self.session.connection().execute(query)]
        self._jobs.update((job.id, job) for job in jobs)
        return jobs

    def search_jobs_widening(
        self,
        levels: Sequence[Sequence[str]],
        category: str | None,
        prefer: Sequence[str] = (),
        limit: int | None = None,
    ) -> tuple[int, list[JobView]]:
        """search_jobs in the first place set that has any, in one query (not one per set):
        every set's posts ranked by the narrowest set they are in, then as search_jobs orders
        them; the rows of the first rank kept."""
        arrays = self.session.get_bind().dialect.name == "postgresql"
        listed = places_literal if arrays else places_json
        shape: Shape = (arrays, len(levels), category is not None, bool(prefer), limit)
        values: dict[str, Any] = {
            f"level_{index}": listed(tuple(places)) for index, places in enumerate(levels)
        }
        if prefer:
            values["prefer"] = listed(tuple(prefer))
        if category is not None:
            values["category"] = category
        rows = _widening(shape).run(self.session, values).rows
        if not rows:
            return len(levels) - 1, []
        nearest = rows[0].near
        jobs = [job_view(row) for row in rows if row.near == nearest]
        self._jobs.update((job.id, job) for job in jobs)
        return int(nearest), jobs

    def job(self, job_id: int) -> JobView | None:
        """One post, open or not."""
        if job_id not in self._jobs:
            row = self.session.connection().execute(JOB_BY_ID, {"job_id": job_id}).first()
            if row is None:
                return None
            self._jobs[job_id] = job_view(row)
        return self._jobs[job_id]

    def applications(self, seeker_id: int) -> list[ApplicationView]:
        """The seeker's applications, most recently changed first."""
        query = (
            select(Application)
            .where(Application.seeker_id == seeker_id)
            .order_by(Application.stage_changed_at.desc(), Application.id.desc())
        )
        return [application_view(a) for a in self.session.scalars(query)]

    def application_for(self, seeker_id: int, job_id: int) -> ApplicationView | None:
        """The seeker's application for this post, if any."""
        found = self.session.scalar(
            select(Application).where(
                Application.seeker_id == seeker_id, Application.job_id == job_id
            )
        )
        return application_view(found) if found is not None else None

    def new_reference(self) -> str:
        """A reference no application has yet (retried on collision)."""
        for _ in range(REFERENCE_TRIES):
            candidate = random_reference()
            taken = self.session.scalar(
                select(Application.id).where(Application.reference == candidate)
            )
            if taken is None:
                return candidate
        raise RuntimeError("no free application reference after many tries")

    def fairs(self, now: datetime) -> list[FairView]:
        """Fairs that have not started yet, soonest first."""
        query = select(JobFair).where(JobFair.starts_at >= now).order_by(JobFair.starts_at)
        return [fair_view(f) for f in self.session.scalars(query)]

    def fair(self, fair_id: int) -> FairView | None:
        """One fair."""
        found = self.session.get(JobFair, fair_id)
        return fair_view(found) if found is not None else None

    def joined(self, seeker_id: int, fair_id: int) -> bool:
        """Whether the seeker asked for alerts about this fair."""
        return self.session.get(FairSubscription, (seeker_id, fair_id)) is not None

    def nearest_jobs(self, lat: float, lon: float, limit: int) -> list[NearbyPost]:
        """The open posts with coordinates nearest (lat, lon), nearest first (a scan: fine for
        the thousands of posts an office has; a bounding box would come first beyond that)."""
        rows = self.session.execute(
            select(
                JobPost.id,
                JobPost.code,
                JobPost.title,
                JobPost.place,
                JobPost.pay_yuan_month,
                JobPost.lat,
                JobPost.lon,
                JobPost.title_zh,
            ).where(JobPost.status == "open", JobPost.lat.is_not(None), JobPost.lon.is_not(None))
        )
        found = [
            NearbyPost(
                id_, code, title, place, pay, distance_km(lat, lon, post_lat, post_lon), title_zh
            )
            for id_, code, title, place, pay, post_lat, post_lon, title_zh in rows
            if post_lat is not None and post_lon is not None
        ]
        found.sort(key=lambda post: (post.km, post.code))
        return found[:limit]
