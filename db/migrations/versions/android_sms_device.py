"""contacts.device: the office phone (SMS gateway device) a contact last wrote to

Revision ID: android_sms_1
Revises: dashboard_2
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "android_sms_1"
down_revision: str | None = "dashboard_2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("contacts", sa.Column("device", sa.String(length=40), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("device")
