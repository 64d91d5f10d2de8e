"""Settings the conversations read: the office, the loan policy, idle restart, the timezone."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, Field, field_validator

from nlu.config import NluSettings


class OfficeSettings(BaseModel):
    """The employment office seekers are sent to."""

    name: str = "Harbin Re-employment Service Centre"
    address: str = "88 Zhongshan Road, Nangang, Harbin"
    hours: str = "Mon-Fri 8:30-17:00"
    reply_by: str = "17:00"


# What a loan rule can ask about; flows/loans.py has a question for each.
LOAN_CONDITIONS = ("laid_off", "card", "age_4050", "business")


class LoanGroup(BaseModel):
    """A group the loan is for: a seeker is in it when every condition holds."""

    name: str
    needs: list[str]

    @field_validator("needs")
    @classmethod
    def _known_conditions(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in LOAN_CONDITIONS]
        if unknown or not value:
            raise ValueError(f"conditions must be some of {', '.join(LOAN_CONDITIONS)}")
        return value


def _default_loan_groups() -> list[LoanGroup]:
    return [
        LoanGroup(name="laid_off", needs=["laid_off"]),
        LoanGroup(name="card_holder", needs=["card"]),
        LoanGroup(name="4050", needs=["age_4050"]),
    ]


class LoanSettings(BaseModel):
    """Small-loan policy; rules live here, not in code."""

    max_amount_yuan: int = 50000
    documents: str = "ID card, concession card or job registration, business plan"
    women_age: int = 40
    men_age: int = 50
    groups: list[LoanGroup] = Field(default_factory=_default_loan_groups)
    required: list[str] = Field(default_factory=lambda: ["business"])

    @field_validator("required")
    @classmethod
    def _known_required(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in LOAN_CONDITIONS]
        if unknown:
            raise ValueError(f"conditions must be some of {', '.join(LOAN_CONDITIONS)}")
        return value


class FlowConfig(Protocol):
    """What a turn reads from Jobline's settings."""

    @property
    def office(self) -> OfficeSettings:
        """The `office:` section."""
        ...

    @property
    def loans(self) -> LoanSettings:
        """The `loans:` section."""
        ...

    @property
    def nlu(self) -> NluSettings:
        """The `nlu:` section (its threshold decides when words change the topic)."""
        ...

    @property
    def idle_restart_hours(self) -> float:
        """After this long without a message, a seeker starts afresh."""
        ...

    @property
    def timezone(self) -> str:
        """The office's timezone, for the times seekers read."""
        ...
