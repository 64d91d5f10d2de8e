"""What flows may read from storage: jobs, applications and fairs as plain values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# Stages an application goes through, in order; caseworkers move it along.
STAGES = ("submitted", "seen", "interview", "hired", "not_selected")


@dataclass(frozen=True)
class JobView:
    """A job post as a seeker sees it."""

    id: int
    code: str
    title: str
    employer: str
    category: str
    place: str
    pay_yuan_month: int
    hours: str
    suits: str
    public_welfare: bool
    open: bool


@dataclass(frozen=True)
class ApplicationView:
    """One of the seeker's applications."""

    reference: str
    job_id: int
    title: str
    employer: str
    stage: str
    stage_changed_at: datetime
    applied_at: datetime


@dataclass(frozen=True)
class FairView:
    """An upcoming job fair."""

    id: int
    name: str
    starts_at: datetime
    venue: str
    district: str
    employers: int
    posts: int


@dataclass(frozen=True)
class NearbyPost:
    """An open job post and how far it is from the seeker."""

    id: int
    code: str
    title: str
    place: str
    pay_yuan_month: int
    km: float


class Lookup(Protocol):
    """Read-only questions a flow may ask storage during a turn."""

    def search_jobs(
        self,
        places: Sequence[str],
        category: str | None,
        prefer: Sequence[str] = (),
        limit: int | None = None,
    ) -> list[JobView]:
        """Open jobs in these places, of this kind (any when None): preferred kinds, then newest."""
        ...

    def job(self, job_id: int) -> JobView | None:
        """One post, open or not."""
        ...

    def applications(self, seeker_id: int) -> list[ApplicationView]:
        """The seeker's applications, most recently changed first."""
        ...

    def application_for(self, seeker_id: int, job_id: int) -> ApplicationView | None:
        """The seeker's application for this post, if they applied already."""
        ...

    def new_reference(self) -> str:
        """A short application reference not used yet."""
        ...

    def fairs(self, now: datetime) -> list[FairView]:
        """Fairs that have not started yet, soonest first."""
        ...

    def fair(self, fair_id: int) -> FairView | None:
        """One fair."""
        ...

    def joined(self, seeker_id: int, fair_id: int) -> bool:
        """Whether the seeker asked for alerts about this fair."""
        ...

    def nearest_jobs(self, lat: float, lon: float, limit: int) -> list[NearbyPost]:
        """The open posts with coordinates nearest this point, nearest first."""
        ...
