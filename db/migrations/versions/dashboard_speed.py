"""indexes that bring every dashboard page under 300 ms p95 at office scale

Test seekers are few: counts take all rows minus theirs (ix_seekers_test) instead of joining
every seeker. The board and a fair's people read an index in page order. On PostgreSQL, name
and phone search and the Jobs words use pg_trgm GIN indexes when the extension can be had.

Revision ID: dashperf_1
Revises: understand_1
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dashperf_1"
down_revision: str | None = "understand_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEST = sa.text("is_test IS true")
REAL = sa.text("is_test IS false")
# (index, table, expression) on PostgreSQL with pg_trgm: LIKE '%words%' without a full scan.
TRIGRAMS = (
    ("ix_seekers_name_trgm", "seekers", "lower(name)"),
    ("ix_seekers_phone_trgm", "seekers", "phone"),
    ("ix_job_posts_code_trgm", "job_posts", "lower(code)"),
    ("ix_job_posts_title_trgm", "job_posts", "lower(title)"),
    ("ix_job_posts_employer_trgm", "job_posts", "lower(employer)"),
)


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_seekers_test", "seekers", ["id"], postgresql_where=TEST, sqlite_where=TEST)
    op.create_index(
        "ix_seekers_real_district",
        "seekers",
        ["district", "registered_at"],
        postgresql_where=REAL,
        sqlite_where=REAL,
    )
    op.drop_index("ix_applications_stage_changed", table_name="applications")
    op.create_index(
        "ix_applications_board", "applications", ["stage", "stage_changed_at", "id", "seeker_id"]
    )
    op.drop_index("ix_fair_subscriptions_fair", table_name="fair_subscriptions")
    op.create_index(
        "ix_fair_subscriptions_people",
        "fair_subscriptions",
        ["fair_id", sa.text("attending DESC"), "created_at", "seeker_id"],
    )
    schema = trigram_schema()
    if schema is not None:
        for name, table, expression in TRIGRAMS:
            op.execute(
                f"CREATE INDEX {name} ON {table} USING gin ({expression} {schema}.gin_trgm_ops)"
            )


def trigram_schema() -> str | None:
    """The schema of pg_trgm on PostgreSQL, added to public if missing and allowed; else None.

    Only `public` is used: an extension made inside one app schema would vanish with it.
    """
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return None
    found = bind.execute(
        sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'"
        )
    ).scalar()
    if found is not None:
        return "public" if found == "public" else None
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
    except sa.exc.DBAPIError:  # no right to add it: search still works, by a full scan
        return None
    return "public"


def downgrade() -> None:
    """Revert this revision."""
    for name, _, _ in TRIGRAMS:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index("ix_fair_subscriptions_people", table_name="fair_subscriptions")
    op.create_index("ix_fair_subscriptions_fair", "fair_subscriptions", ["fair_id"])
    op.drop_index("ix_applications_board", table_name="applications")
    op.create_index("ix_applications_stage_changed", "applications", ["stage", "stage_changed_at"])
    op.drop_index("ix_seekers_real_district", table_name="seekers")
    op.drop_index("ix_seekers_test", table_name="seekers")
