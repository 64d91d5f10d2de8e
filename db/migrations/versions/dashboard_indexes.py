"""indexes for the dashboard Overview: per-day counts and broadcast funnels

Revision ID: dashboard_2
Revises: wechat_2
"""

from collections.abc import Sequence

from alembic import op

revision: str = "dashboard_2"
down_revision: str | None = "wechat_2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_messages_created_at", "messages", ["created_at"])
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"])
    op.create_index("ix_seekers_registered_at", "seekers", ["registered_at"])
    op.create_index("ix_outbox_broadcast_status", "outbox", ["broadcast_id", "status"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_outbox_broadcast_status", table_name="outbox")
    op.drop_index("ix_seekers_registered_at", table_name="seekers")
    op.drop_index("ix_outbox_created_at", table_name="outbox")
    op.drop_index("ix_messages_created_at", table_name="messages")
