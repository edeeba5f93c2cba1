"""Indexes for three look-ups that read every row of their table:

- ``story_keys`` by story: an article placed by its words moves its story's keys to the
  story it joins (``settling.MOVE_KEYS``);
- ``articles`` by text hash: the article a copy folded with is the earliest holding its
  text (``story_index._holder``);
- ``articles`` by first seen: retention takes the oldest articles (``retention._OLDEST``).

Without them each cost what the store holds, not what the look-up finds.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_story_keys_story_id", "story_keys", ["story_id"])
    op.create_index("ix_articles_text_hash", "articles", ["text_hash"])
    op.create_index("ix_articles_first_seen", "articles", ["first_seen"])


def downgrade() -> None:
    op.drop_index("ix_articles_first_seen", "articles")
    op.drop_index("ix_articles_text_hash", "articles")
    op.drop_index("ix_story_keys_story_id", "story_keys")
