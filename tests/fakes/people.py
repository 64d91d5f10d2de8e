"""Many seekers with SMS contacts, written in bulk (tests and benchmarks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, literal, select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Contact, Seeker, utcnow
from db.session import transaction

CHUNK = 5000


def phone(number: int) -> str:
    """A distinct Chinese mobile number."""
    return f"+86139{number:08d}"


def add_seekers(
    sessions: sessionmaker[Session],
    count: int,
    *,
    first: int = 0,
    district: str = "Daoli",
    language: str = "en",
    alerts: bool = True,
    interests: tuple[str, ...] = ("cleaning",),
    channel: str = "sms",
) -> None:
    """Seekers numbered first..first+count, each with one contact on `channel`."""
    now = utcnow()
    for start in range(first, first + count, CHUNK):
        stop = min(first + count, start + CHUNK)
        rows = [
            {
                "phone": phone(n),
                "name": f"Seeker {n}",
                "district": district,
                "interests": list(interests),
                "language": language,
                "alerts": alerts,
                "opted_out": False,
                "gender": "woman" if n % 2 else "man",
                "birth_year": 1960 + n % 40,
                "concession_card": n % 3 == 0,
                "created_at": now,
                "registered_at": now,
            }
            for n in range(start, stop)
        ]
        with transaction(sessions) as session:
            session.execute(insert(Seeker), rows)
            fresh = select(
                literal(channel),
                Seeker.phone,
                Seeker.id,
                literal(now, type_=Contact.created_at.type),
            ).where(Seeker.phone.in_([row["phone"] for row in rows]))
            session.execute(
                insert(Contact).from_select(
                    ["channel", "address", "seeker_id", "created_at"], fresh
                )
            )


class DaytimeClock:
    """Real time, moved so that it is 10:00 in Harbin now (sleeps and backoff still work)."""

    def __init__(self, hour: int = 10) -> None:
        target = datetime.now(ZoneInfo("Asia/Harbin")).replace(
            hour=hour, minute=0, second=0, microsecond=0
        )
        self.offset = target.astimezone(UTC) - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        """Move time forward."""
        self.offset += timedelta(**delta)
