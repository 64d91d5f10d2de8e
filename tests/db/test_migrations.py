"""Migrations upgrade an empty database to the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from db.migrate import upgrade
from db.models import Base
from db.session import make_engine


def test_upgrade_from_empty_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    upgrade(engine)  # a second run changes nothing
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert not [d for d in diff if d[0] in ("add_table", "add_column", "remove_column")]
    engine.dispose()
