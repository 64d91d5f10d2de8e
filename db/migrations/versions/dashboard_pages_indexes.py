"""indexes the other dashboard pages need at office scale (bench/dashboard_pages.py)

Revision ID: dash2_2
Revises: android_sms_1
"""

from collections.abc import Sequence

from alembic import op

revision: str = "dash2_2"
down_revision: str | None = "android_sms_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (index, table, columns): each names the page that needs it.
INDEXES = (
    ("ix_applications_stage_changed", "applications", ["stage", "stage_changed_at"]),  # board
    ("ix_seekers_district", "seekers", ["district"]),  # overview by district, seekers filter
    ("ix_handoffs_status_opened", "handoffs", ["status", "opened_at"]),  # handoffs, oldest first
    ("ix_fair_subscriptions_fair", "fair_subscriptions", ["fair_id"]),  # a fair's people
)


def upgrade() -> None:
    """Apply this revision."""
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    """Revert this revision."""
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
