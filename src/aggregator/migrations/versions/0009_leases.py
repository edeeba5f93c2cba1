"""Leases on sources: which worker is fetching a source and until when, so that several
``aggregator worker`` processes on one database never fetch one source at once, and a
dead worker's sources are taken over once its lease has run out; claims read the due
sources by ``next_due``, now indexed.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sources", sa.Column("lease_owner", sa.Text(), nullable=True))
    op.add_column("sources", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_sources_next_due", "sources", ["next_due"])


def downgrade() -> None:
    op.drop_index("ix_sources_next_due", "sources")
    op.drop_column("sources", "lease_until")
    op.drop_column("sources", "lease_owner")
