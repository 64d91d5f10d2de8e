"""job_posts.title_zh, employer_zh, hours_zh, suits_zh: what Chinese-speaking seekers read

Revision ID: understand_1
Revises: dash2_2
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "understand_1"
down_revision: str | None = "dash2_2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("job_posts", sa.Column("title_zh", sa.String(120), nullable=True))
    op.add_column("job_posts", sa.Column("employer_zh", sa.String(120), nullable=True))
    op.add_column("job_posts", sa.Column("hours_zh", sa.String(80), nullable=True))
    op.add_column("job_posts", sa.Column("suits_zh", sa.String(160), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("job_posts") as batch:
        batch.drop_column("suits_zh")
        batch.drop_column("hours_zh")
        batch.drop_column("employer_zh")
        batch.drop_column("title_zh")
