"""Politeness: what the next-fetch policy remembers about a source between fetches: the
feed's own hints (``<ttl>``, ``sy:updatePeriod``, ``<skipHours>``, ``<skipDays>``) and its
observed publishing rate (median gap between recent entries, newest publication date).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("observed_gap_seconds", sa.Integer()),
    ("last_published", sa.DateTime(timezone=True)),
    ("ttl_seconds", sa.Integer()),
    ("update_period_seconds", sa.Integer()),
    ("skip_hours", sa.Text()),
    ("skip_days", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        for name, kind in _COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
