"""sync protocol: agents, enrolment, receipts

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # server defaults only fill rows that exist before this revision
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=200),
                      nullable=False, server_default="")
        )

    with op.batch_alter_table("syncrejection", schema=None) as batch_op:
        batch_op.add_column(sa.Column("epoch", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_index(
            "ix_syncrejection_agent_seq", ["dealer_id", "agent_id", "epoch", "seq"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("syncrejection", schema=None) as batch_op:
        batch_op.drop_index("ix_syncrejection_agent_seq")
        batch_op.drop_column("epoch")

    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.drop_column("last_error")
