"""WeChat: link_codes, the codes texted to link a follower to the seeker of a phone.

Revision ID: wechat_2
Revises: wechat_1
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "wechat_2"
down_revision: str | None = "wechat_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "link_codes",
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id"), primary_key=True),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tries", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("link_codes")
