"""Stories: every article belongs to one; duplicates are stored as members, not dropped.

A story is found by its keys (canonical URL, content hash: one story per key, enforced by
the primary key of ``story_keys``) or by similarity (``bands``: the LSH index of each
article's sketch). ``splits`` remembers articles taken out of a story by the operator.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("story_id", sa.Text(), nullable=True))
        batch.add_column(sa.Column("text_hash", sa.Text(), nullable=True))
        batch.add_column(sa.Column("signature", sa.Text(), nullable=True))
        batch.add_column(sa.Column("figures", sa.Text(), nullable=True))
        batch.add_column(sa.Column("fold_rule", sa.Text(), nullable=True))
        batch.add_column(sa.Column("fold_match", sa.Text(), nullable=True))
        batch.add_column(sa.Column("fold_score", sa.Float(), nullable=True))
    op.execute("UPDATE articles SET story_id = id WHERE story_id IS NULL")
    with op.batch_alter_table("articles") as batch:
        batch.alter_column("story_id", existing_type=sa.Text(), nullable=False)
    # A second outlet's copy of a URL is now a member of the story, not refused.
    op.drop_index("ix_articles_canonical_url", table_name="articles")
    op.create_index("ix_articles_canonical_url", "articles", ["canonical_url"])
    op.create_index("ix_articles_story_id", "articles", ["story_id"])
    op.create_table(
        "story_keys",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("story_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name="pk_story_keys"),
    )
    op.execute(
        "INSERT INTO story_keys (kind, key, story_id) "
        "SELECT 'url', canonical_url, id FROM articles WHERE canonical_url IS NOT NULL"
    )
    op.create_table(
        "bands",
        sa.Column("band", sa.Text(), nullable=False),
        sa.Column("article_id", sa.Text(), nullable=False),
        sa.Column("date", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("band", "article_id", name="pk_bands"),
    )
    op.create_index("ix_bands_band_date", "bands", ["band", "date"])
    op.create_index("ix_bands_article_id", "bands", ["article_id"])
    op.create_table(
        "splits",
        sa.Column("article_id", sa.Text(), nullable=False),
        sa.Column("from_story", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("article_id", name="pk_splits"),
    )


def downgrade() -> None:
    op.drop_table("splits")
    op.drop_table("bands")
    op.drop_table("story_keys")
    op.drop_index("ix_articles_story_id", table_name="articles")
    op.drop_index("ix_articles_canonical_url", table_name="articles")
    op.create_index(
        "ix_articles_canonical_url",
        "articles",
        ["canonical_url"],
        unique=True,
        sqlite_where=sa.text("canonical_url IS NOT NULL"),
        postgresql_where=sa.text("canonical_url IS NOT NULL"),
    )
    with op.batch_alter_table("articles") as batch:
        for column in (
            "fold_score", "fold_match", "fold_rule", "figures", "signature", "text_hash", "story_id"
        ):  # fmt: skip
            batch.drop_column(column)
