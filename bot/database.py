"""Open the database: create the folder, migrate, load reference rows and demo data once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings
from db.demo import load_demo, load_reference_rows
from db.migrate import upgrade
from db.models import utcnow
from db.session import make_engine, make_session_factory, transaction
from reference import load_reference

# Any fixed number: the key of Jobline's start-up lock on PostgreSQL.
SETUP_LOCK = 5_201_314


@dataclass(frozen=True)
class Database:
    """An engine and its session factory."""

    engine: Engine
    sessions: sessionmaker[Session]


def open_database(settings: Settings, *, demo: bool | None = None) -> Database:
    """Migrate to the newest schema and load what every Jobline needs."""
    path = settings.sqlite_path
    url = settings.database_url
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with one_at_a_time(engine):
        upgrade(engine)
        reference = load_reference()
        with transaction(sessions) as session:
            load_reference_rows(session, reference)
            if settings.load_demo_data if demo is None else demo:
                load_demo(session, reference, utcnow())
    return Database(engine, sessions)


@contextmanager
def one_at_a_time(engine: Engine) -> Iterator[None]:
    """Several processes starting at once on PostgreSQL set the database up one after another
    (a session advisory lock); two migrating an empty schema together would collide."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SETUP_LOCK})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SETUP_LOCK})
            connection.commit()
