"""Each content-word posting names its article's story: a word's rarity is counted in
stories, so a story ten outlets told does not make its own names common.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("word_postings", sa.Column("story_id", sa.Text(), nullable=True))
    op.execute(
        "UPDATE word_postings SET story_id = "
        "(SELECT story_id FROM articles WHERE articles.id = word_postings.article_id)"
    )


def downgrade() -> None:
    op.drop_column("word_postings", "story_id")
