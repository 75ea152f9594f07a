"""CRM corrections, tasks and complaints escalation

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaintescalation",
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["dealer_id"],
            ["dealer.id"],
        ),
        sa.PrimaryKeyConstraint("dealer_id", "record_id"),
    )
    with op.batch_alter_table("complaintescalation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_complaintescalation_at", ["dealer_id", "escalated_at"], unique=False
        )

    op.create_table(
        "recordcorrection",
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("field", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("original", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("based_on_version", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("conflict_value", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
        sa.Column("by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_user_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["dealer_id"],
            ["dealer.id"],
        ),
        sa.PrimaryKeyConstraint("dealer_id", "id"),
    )
    with op.batch_alter_table("recordcorrection", schema=None) as batch_op:
        batch_op.create_index(
            "ix_recordcorrection_record", ["dealer_id", "kind", "record_id"], unique=False
        )

    op.create_table(
        "recordnote",
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_user_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["dealer_id"],
            ["dealer.id"],
        ),
        sa.PrimaryKeyConstraint("dealer_id", "id"),
    )
    with op.batch_alter_table("recordnote", schema=None) as batch_op:
        batch_op.create_index(
            "ix_recordnote_record", ["dealer_id", "kind", "record_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("recordnote", schema=None) as batch_op:
        batch_op.drop_index("ix_recordnote_record")

    op.drop_table("recordnote")
    with op.batch_alter_table("recordcorrection", schema=None) as batch_op:
        batch_op.drop_index("ix_recordcorrection_record")

    op.drop_table("recordcorrection")
    with op.batch_alter_table("complaintescalation", schema=None) as batch_op:
        batch_op.drop_index("ix_complaintescalation_at")

    op.drop_table("complaintescalation")
