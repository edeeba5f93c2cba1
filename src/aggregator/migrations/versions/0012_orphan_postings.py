"""Postings left behind: an article indexed under more words than the code that pruned or
updated it looked up (16 key words, then 12) kept the rest of its rows in
``word_postings`` after it left the store. Removing an article's postings now covers every
term any version indexed it by (``story_index.unindex_words``); this removes those left
before.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM word_postings WHERE NOT EXISTS "
        "(SELECT 1 FROM articles WHERE articles.id = word_postings.article_id)"
    )


def downgrade() -> None:
    """Nothing to restore: the rows removed belonged to no article."""
