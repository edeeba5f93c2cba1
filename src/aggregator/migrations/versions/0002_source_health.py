"""Source health: why the next fetch is when it is, the last HTTP status, a permanent
redirect seen, and whether the source is disabled (HTTP 410).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("next_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("http_status", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("moved_to", sa.Text(), nullable=True))
        batch.add_column(sa.Column("disabled", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("disabled")
        batch.drop_column("moved_to")
        batch.drop_column("http_status")
        batch.drop_column("next_reason")
