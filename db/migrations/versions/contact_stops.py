"""contacts.stopped (one contact opted out, not the seeker) and early_reports

Revision ID: harden_2
Revises: dashperf_1
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "harden_2"
down_revision: str | None = "dashperf_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("contacts", sa.Column("stopped", sa.String(length=10), nullable=True))
    op.create_table(
        "early_reports",
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider_id"),
    )
    op.create_index("ix_early_reports_received_at", "early_reports", ["received_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_early_reports_received_at", table_name="early_reports")
    op.drop_table("early_reports")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("stopped")
