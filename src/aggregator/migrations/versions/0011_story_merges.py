"""Stories an article told alike are merged into one; ``merges`` records each absorbed
story, so a publish removes the post it had written for it.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "merges",
        sa.Column("story_id", sa.Text(), nullable=False),
        sa.Column("into_story", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("story_id", name="pk_merges"),
    )
    op.create_index("ix_merges_seq", "merges", ["seq"])


def downgrade() -> None:
    op.drop_index("ix_merges_seq", "merges")
    op.drop_table("merges")
