"""messages.error: why a turn failed (the message is then `failed`, not lost)

Revision ID: harden_1
Revises: dashboard_1
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "harden_1"
down_revision: str | None = "dashboard_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("messages", sa.Column("error", sa.Text(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("error")
