"""WeChat: provider_tokens, the access token every process shares.

Revision ID: wechat_1
Revises: harden_1
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "wechat_1"
down_revision: str | None = "harden_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "provider_tokens",
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("value", sa.String(600), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refreshing_until", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("provider_tokens")
