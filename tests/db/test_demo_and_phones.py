"""Demo data loads once; phone numbers are stored in E.164."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.database import Database, open_database
from bot.settings import Settings
from db.models import JobFair, JobPost, Place
from db.phones import BadPhone, mask_phone, normalize_phone


def test_demo_data_loads_once(settings: Settings, database: Database) -> None:
    again = open_database(settings)
    with again.sessions() as session:
        assert session.scalar(select(func.count(JobPost.id))) == 14
        assert session.scalar(select(func.count(JobFair.id))) == 1
        names = set(session.scalars(select(Place.name)))
    assert {"Harbin", "Nangang", "Daoli", "Fuyu", "Gannan", "Hegang"} <= names
    again.engine.dispose()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13800000001", "+8613800000001"),
        ("+86 138 0000 0001", "+8613800000001"),
        ("008613800000001", "+8613800000001"),
    ],
)
def test_phone_numbers_become_e164(typed: str, stored: str) -> None:
    assert normalize_phone(typed, "CN") == stored


@pytest.mark.parametrize("typed", ["hello", "12", ""])
def test_not_a_phone(typed: str) -> None:
    with pytest.raises(BadPhone):
        normalize_phone(typed, "CN")


def test_logs_mask_numbers() -> None:
    assert mask_phone("+8613800000001") == "+86138****0001"
