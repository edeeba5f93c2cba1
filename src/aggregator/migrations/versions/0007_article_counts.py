"""Each source's article count as a column, kept with every insert and prune: reading the
sources' health (every publish, every /healthz) counted the whole articles table.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite takes it with a constant default): a batch copy of the
    # table would drop it under the articles that reference it.
    op.add_column(
        "sources",
        sa.Column("article_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    if context.is_offline_mode():
        return
    op.execute(
        "UPDATE sources SET article_count = "
        "(SELECT COUNT(*) FROM articles WHERE articles.source_id = sources.id)"
    )


def downgrade() -> None:
    op.drop_column("sources", "article_count")
