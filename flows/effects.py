"""What a turn asks storage to do, as values: the flows decide, bot/effects.py does it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SaveProfile:
    """Store what the seeker told us; None leaves a field as it is."""

    name: str | None = None
    birth_year: int | None = None
    gender: str | None = None
    district: str | None = None
    interests: tuple[str, ...] | None = None
    concession_card: bool | None = None
    laid_off: bool | None = None
    alerts: bool | None = None
    register: bool = False


@dataclass(frozen=True)
class OptOut:
    """STOP: send nothing more but the confirmation."""


@dataclass(frozen=True)
class OptIn:
    """START: texts again."""


@dataclass(frozen=True)
class OpenHandoff:
    """The seeker asked for a person."""

    reason: str = ""


@dataclass(frozen=True)
class AttendFair:
    """The seeker will come to the fair they were last alerted about."""


@dataclass(frozen=True)
class SetLanguage:
    """The language the seeker's texts are written in from now on."""

    language: str


@dataclass(frozen=True)
class ApplyJob:
    """An application for a post, with the reference the seeker was told."""

    job_id: int
    reference: str


@dataclass(frozen=True)
class JoinFair:
    """Alerts (and the reminder the day before) for one fair."""

    fair_id: int


Effect = SaveProfile | OptOut | OptIn | OpenHandoff | AttendFair | SetLanguage | ApplyJob | JoinFair
