"""CRM-usage metrics, benchmark and rollup aggregates

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COUNTS = (
    "sales_due", "sales_contacted", "leads_due", "leads_24h", "leads_responded",
    "leads_immediate", "won_immediate", "leads_3m", "won_3m", "leads_6m", "won_6m",
    "leads_1y", "won_1y", "lifecycle_customers", "lifecycle_covered", "records_checked",
    "records_complete", "complaints_due", "complaints_24h", "surveys", "surveys_loyal",
    "sync_days", "month_days",
)


def _text(length: int):
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _keys() -> list:
    return [
        sa.Column("dealer_id", sa.Integer(), sa.ForeignKey("dealer.id"), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "agentsyncday",
        sa.Column("dealer_id", sa.Integer(), sa.ForeignKey("dealer.id"), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("dealer_id", "agent_id", "day"),
    )
    op.create_table(
        "dealermonthmetric",
        *_keys(),
        sa.Column("region_id", sa.Integer(), sa.ForeignKey("region.id"), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS],
        sa.Column("lead_median_h", sa.Float(), nullable=True),
        sa.Column("usage_index", sa.Float(), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dealer_id", "month"),
    )
    op.create_index("ix_dealermonthmetric_month", "dealermonthmetric", ["month", "region_id"])
    op.create_table(
        "dealermonthvolume",
        *_keys(),
        sa.Column("brand", _text(100), nullable=False),
        sa.Column("model", _text(100), nullable=False),
        sa.Column("region_id", sa.Integer(), sa.ForeignKey("region.id"), nullable=False),
        sa.Column("sales", sa.Integer(), nullable=False),
        sa.Column("repairs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dealer_id", "month", "brand", "model"),
    )
    op.create_index("ix_dealermonthvolume_month", "dealermonthvolume", ["month", "region_id"])
    op.create_table(
        "dealermonthpart",
        *_keys(),
        sa.Column("brand", _text(100), nullable=False),
        sa.Column("model", _text(100), nullable=False),
        sa.Column("part_number", _text(40), nullable=False),
        sa.Column("region_id", sa.Integer(), sa.ForeignKey("region.id"), nullable=False),
        sa.Column("name", _text(100), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("repairs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dealer_id", "month", "brand", "model", "part_number"),
    )
    op.create_index("ix_dealermonthpart_month", "dealermonthpart", ["month", "region_id"])
    op.create_table(
        "regionmonthvolume",
        sa.Column("region_id", sa.Integer(), sa.ForeignKey("region.id"), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("brand", _text(100), nullable=False),
        sa.Column("model", _text(100), nullable=False),
        sa.Column("sales", sa.Integer(), nullable=False),
        sa.Column("repairs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region_id", "month", "brand", "model"),
    )
    op.create_table(
        "regionmonthpart",
        sa.Column("region_id", sa.Integer(), sa.ForeignKey("region.id"), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("brand", _text(100), nullable=False),
        sa.Column("model", _text(100), nullable=False),
        sa.Column("part_number", _text(40), nullable=False),
        sa.Column("name", _text(100), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("repairs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region_id", "month", "brand", "model", "part_number"),
    )
    op.create_table(
        "export",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("dealer_id", sa.Integer(), sa.ForeignKey("dealer.id"), nullable=True),
        sa.Column("table", _text(40), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("fmt", _text(4), nullable=False),
        sa.Column("status", _text(10), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("file_path", _text(500), nullable=False),
        sa.Column("error", _text(500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_export_user_created", "export", ["user_id", "created_at"])


def downgrade() -> None:
    for table in ("export", "regionmonthpart", "regionmonthvolume", "dealermonthpart",
                  "dealermonthvolume", "dealermonthmetric"):
        op.drop_table(table)  # drops its indexes too
    op.drop_table("agentsyncday")
