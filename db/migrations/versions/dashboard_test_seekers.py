"""seekers.is_test: the pretend seekers of the dashboard's "Try it" phone

Revision ID: dash2_1
Revises: telegram_1
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dash2_1"
down_revision: str | None = "telegram_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column(
        "seekers",
        sa.Column("is_test", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("seekers") as batch:
        batch.drop_column("is_test")
