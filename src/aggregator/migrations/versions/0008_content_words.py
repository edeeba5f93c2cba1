"""Content words: each article's headline and lead words (``words.Words``) and an inverted
index of them within their date, so that reports of one event written apart from each
other are found by the rare words they share; and what every signal said when an article
was folded (``fold_evidence``), for ``dedup explain``.

Articles stored before keep no words: they are found by their sketches only, and leave
the windows in days.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("articles", sa.Column("words", sa.Text(), nullable=True))
    op.add_column("articles", sa.Column("fold_evidence", sa.Text(), nullable=True))
    op.create_table(
        "word_postings",
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("date", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", "date", "article_id", name="pk_word_postings"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("word_postings")
    op.drop_column("articles", "fold_evidence")
    op.drop_column("articles", "words")
