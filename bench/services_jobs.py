"""How long a 'jobs near me' turn takes with 20,000 open posts, against a turn with no search."""

from __future__ import annotations

import tempfile
import time

from sqlalchemy import insert, update

from bot.channels.base import InboundMessage
from bot.conversation import Jobline
from bot.database import open_database
from bot.settings import load_settings
from db.models import JobPost, Seeker, utcnow
from db.session import transaction

POSTS = 20_000
TURNS = 200
PLACES = ("Daoli", "Nangang", "Harbin", "Fuyu", "Mudanjiang")
KINDS = ("cleaning", "security", "cooking", "care", "factory")
PHONE = "+8613800000001"


def timed(jobline: Jobline, text: str) -> float:
    """Seconds per turn for TURNS turns of the same message."""
    start = time.perf_counter()
    for _ in range(TURNS):
        jobline.handle(InboundMessage("console", PHONE, text))
    return (time.perf_counter() - start) / TURNS


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(database_url=f"sqlite:///{folder}/bench.db")
        database = open_database(settings)
        now = utcnow()
        rows = [
            {
                "code": f"BENCH-{n}",
                "title": f"Worker {n}",
                "employer": "Bench Employer",
                "category": KINDS[n % len(KINDS)],
                "place": PLACES[n % len(PLACES)],
                "pay_yuan_month": 1500 + n % 2000,
                "hours": "Mon-Fri 8:00-16:00",
                "suits": "Anyone",
                "public_welfare": n % 3 == 0,
                "created_at": now,
            }
            for n in range(POSTS)
        ]
        with transaction(database.sessions) as session:
            session.execute(insert(JobPost), rows)
        jobline = Jobline(settings, database.sessions)
        jobline.handle(InboundMessage("console", PHONE, "hello"))
        with transaction(database.sessions) as session:
            session.execute(
                update(Seeker)
                .where(Seeker.phone == PHONE)
                .values(district="Daoli", interests=["care"], registered_at=now, name="Wang")
            )
        baseline = timed(jobline, "help")
        search = timed(jobline, "jobs")
        database.engine.dispose()
    print(f"jobs-near-me turn with {POSTS:,} posts: {search * 1000:.2f} ms")
    print(f"baseline turn (HELP, no search):      {baseline * 1000:.2f} ms")
    print(f"ratio: {search / baseline:.2f}x")


if __name__ == "__main__":
    main()
