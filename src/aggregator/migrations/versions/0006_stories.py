"""Stories: one row per story with where it sits in a channel (its earliest member's date)
and its latest change number, so publishing reads the stories it shows and the ones that
changed, not every stored article.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("sort_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stories"),
    )
    op.create_index("ix_stories_sort_date", "stories", ["sort_date"])
    op.create_index("ix_stories_changed_seq", "stories", ["changed_seq"])
    if context.is_offline_mode():
        return
    op.execute(
        "INSERT INTO stories (id, sort_date, changed_seq) "
        "SELECT story_id, MIN(COALESCE(date, first_seen)), MAX(seq) FROM articles "
        "GROUP BY story_id"
    )


def downgrade() -> None:
    op.drop_index("ix_stories_changed_seq", "stories")
    op.drop_index("ix_stories_sort_date", "stories")
    op.drop_table("stories")
