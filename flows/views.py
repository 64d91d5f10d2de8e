"""What flows may read from storage: jobs, applications and fairs as plain values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# Stages an application goes through, in order; caseworkers move it along.
STAGES = ("submitted", "seen", "interview", "hired", "not_selected")


def in_language(english: str, chinese: str | None, language: str) -> str:
    """The Chinese wording for a Chinese reader when the post has one, else the English."""
    return chinese if language == "zh" and chinese else english


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
    title_zh: str | None = None
    employer_zh: str | None = None
    hours_zh: str | None = None
    suits_zh: str | None = None

    def title_for(self, language: str) -> str:
        """The title in the seeker's language."""
        return in_language(self.title, self.title_zh, language)

    def employer_for(self, language: str) -> str:
        """The employer in the seeker's language."""
        return in_language(self.employer, self.employer_zh, language)

    def hours_for(self, language: str) -> str:
        """The hours in the seeker's language."""
        return in_language(self.hours, self.hours_zh, language)

    def suits_for(self, language: str) -> str:
        """Who it suits, in the seeker's language."""
        return in_language(self.suits, self.suits_zh, language)


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
    title_zh: str | None = None

    def title_for(self, language: str) -> str:
        """The title in the seeker's language."""
        return in_language(self.title, self.title_zh, language)


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
    title_zh: str | None = None

    def title_for(self, language: str) -> str:
        """The title in the seeker's language."""
        return in_language(self.title, self.title_zh, language)


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

    def search_jobs_widening(
        self,
        levels: Sequence[Sequence[str]],
        category: str | None,
        prefer: Sequence[str] = (),
        limit: int | None = None,
    ) -> tuple[int, list[JobView]]:
        """search_jobs in the first of these place sets, each inside the next, that has any: its
        index and its jobs (the last index and none when none has any)."""
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
