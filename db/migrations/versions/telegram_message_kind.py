"""messages.kind: how to read a stored message again (text, location, contact, ...)

Revision ID: telegram_1
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "telegram_1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column(
        "messages",
        sa.Column("kind", sa.String(length=20), server_default="text", nullable=False),
    )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("kind")
