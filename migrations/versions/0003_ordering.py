"""vehicle ordering and production tracking

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "brand",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("name_zh", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "factorytoken",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hint", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "carmodel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("name_zh", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brand.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("brand_id", "code"),
    )
    with op.batch_alter_table("carmodel", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_carmodel_brand_id"), ["brand_id"], unique=False)

    op.create_table(
        "factoryeventreceipt",
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["factorytoken.id"],
        ),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "catalogueoption",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("name_zh", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["carmodel.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_id", "code"),
    )
    with op.batch_alter_table("catalogueoption", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalogueoption_model_id"), ["model_id"], unique=False)

    op.create_table(
        "cataloguerule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["carmodel.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_id", "kind", "subject", "target"),
    )
    with op.batch_alter_table("cataloguerule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cataloguerule_model_id"), ["model_id"], unique=False)

    op.create_table(
        "colour",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("name_zh", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["carmodel.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_id", "code"),
    )
    with op.batch_alter_table("colour", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_colour_model_id"), ["model_id"], unique=False)

    op.create_table(
        "etahistory",
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("unit", sa.Integer(), nullable=False),
        sa.Column("eta_from", sa.Date(), nullable=False),
        sa.Column("eta_to", sa.Date(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["dealer_id"],
            ["dealer.id"],
        ),
        sa.PrimaryKeyConstraint("dealer_id", "id"),
    )
    with op.batch_alter_table("etahistory", schema=None) as batch_op:
        batch_op.create_index(
            "ix_etahistory_vehicle", ["dealer_id", "order_id", "line", "unit"], unique=False
        )

    op.create_table(
        "orderline",
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("trim_code", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("colour_code", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("option_codes", sa.JSON(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dealer_id"],
            ["dealer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["carmodel.id"],
        ),
        sa.PrimaryKeyConstraint("dealer_id", "order_id", "line"),
    )
    with op.batch_alter_table("orderline", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orderline_model_id"), ["model_id"], unique=False)

    op.create_table(
        "ordersequence",
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dealer_id"],
            ["dealer.id"],
        ),
        sa.PrimaryKeyConstraint("dealer_id", "year"),
    )
    op.create_table(
        "ordervehicle",
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("unit", sa.Integer(), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("stage_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("vin", sqlmodel.sql.sqltypes.AutoString(length=17), nullable=True),
        sa.Column("eta_from", sa.Date(), nullable=True),
        sa.Column("eta_to", sa.Date(), nullable=True),
        sa.Column("eta_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["dealer_id"],
            ["dealer.id"],
        ),
        sa.PrimaryKeyConstraint("dealer_id", "order_id", "line", "unit"),
        sa.UniqueConstraint("vin"),
    )
    with op.batch_alter_table("ordervehicle", schema=None) as batch_op:
        batch_op.create_index("ix_ordervehicle_stage", ["stage", "stage_at"], unique=False)

    op.create_table(
        "stagehistory",
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("unit", sa.Integer(), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dealer_id"],
            ["dealer.id"],
        ),
        sa.PrimaryKeyConstraint("dealer_id", "id"),
    )
    with op.batch_alter_table("stagehistory", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stagehistory_vehicle", ["dealer_id", "order_id", "line", "unit"], unique=False
        )

    op.create_table(
        "trim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("name_zh", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["carmodel.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_id", "code"),
    )
    with op.batch_alter_table("trim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trim_model_id"), ["model_id"], unique=False)

    op.create_table(
        "vehicleorder",
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("customer_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("customer_phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=True),
        sa.Column("delivery_point", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("priority", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["dealer_id"],
            ["dealer.id"],
        ),
        sa.PrimaryKeyConstraint("dealer_id", "id"),
        sa.UniqueConstraint("number"),
    )
    with op.batch_alter_table("vehicleorder", schema=None) as batch_op:
        batch_op.create_index(
            "ix_vehicleorder_dealer_created", ["dealer_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("vehicleorder", schema=None) as batch_op:
        batch_op.drop_index("ix_vehicleorder_dealer_created")

    op.drop_table("vehicleorder")
    with op.batch_alter_table("trim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trim_model_id"))

    op.drop_table("trim")
    with op.batch_alter_table("stagehistory", schema=None) as batch_op:
        batch_op.drop_index("ix_stagehistory_vehicle")

    op.drop_table("stagehistory")
    with op.batch_alter_table("ordervehicle", schema=None) as batch_op:
        batch_op.drop_index("ix_ordervehicle_stage")

    op.drop_table("ordervehicle")
    op.drop_table("ordersequence")
    with op.batch_alter_table("orderline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orderline_model_id"))

    op.drop_table("orderline")
    with op.batch_alter_table("etahistory", schema=None) as batch_op:
        batch_op.drop_index("ix_etahistory_vehicle")

    op.drop_table("etahistory")
    with op.batch_alter_table("colour", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_colour_model_id"))

    op.drop_table("colour")
    with op.batch_alter_table("cataloguerule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cataloguerule_model_id"))

    op.drop_table("cataloguerule")
    with op.batch_alter_table("catalogueoption", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalogueoption_model_id"))

    op.drop_table("catalogueoption")
    op.drop_table("factoryeventreceipt")
    with op.batch_alter_table("carmodel", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_carmodel_brand_id"))

    op.drop_table("carmodel")
    op.drop_table("factorytoken")
    op.drop_table("brand")
