"""Articles stored but not yet placed by their words: a fetch pass places them at its
end, the earliest first, so a story does not depend on which source answered first.
Every article stored before is placed already.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unsettled",
        sa.Column("article_id", sa.Text(), nullable=False),
        sa.Column("date", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("article_id", name="pk_unsettled"),
    )
    op.create_index("ix_unsettled_date", "unsettled", ["date", "article_id"])


def downgrade() -> None:
    op.drop_index("ix_unsettled_date", "unsettled")
    op.drop_table("unsettled")
