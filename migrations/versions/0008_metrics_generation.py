"""metrics generation: the row every aggregates refresh bumps, the HQ pages' freshness check

The rollups, benchmark and scorecard pages keep figures computed from the aggregates per
process until the next refresh; reading this one row tells them whether a refresh happened.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "metricsgeneration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(table, [{"id": 1, "generation": 0, "refreshed_at": dt.datetime.now(dt.UTC)}])


def downgrade() -> None:
    op.drop_table("metricsgeneration")
