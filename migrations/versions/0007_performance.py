"""performance: status indexes for the dashboard's open leads and complaints over many dealers

Measured by the benchmark suite (tests/benchmark, 1,000 dealers, 5 M records): the HQ
dashboard went from ~150 ms to ~30 ms of CPU on SQLite, no longer scanning every lead.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_lead_status_dealer", "lead", ["status", "dealer_id"], unique=False)
    op.create_index("ix_complaint_status_dealer", "complaint", ["status", "dealer_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_complaint_status_dealer", table_name="complaint")
    op.drop_index("ix_lead_status_dealer", table_name="lead")
