"""The synced record kinds (DESIGN §4) and the bookkeeping of the sync protocol.

Every record table is keyed by ``(dealer_id, record_id)`` and carries its business
key unique per dealer, so the schema can later be distributed by dealer.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import JSON, Column, Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.models.base import DealerScoped, timestamp, utcnow


class _SyncedRecord(DealerScoped, SQLModel):
    """Columns every synced record has."""

    dealer_id: int = Field(foreign_key="dealer.id", primary_key=True)
    record_id: uuid.UUID = Field(primary_key=True)
    version: int
    agent_id: uuid.UUID | None = None
    updated_at: dt.datetime = timestamp()
    received_at: dt.datetime = timestamp(default_factory=utcnow)


class Sale(_SyncedRecord, table=True):
    __table_args__ = (
        UniqueConstraint("dealer_id", "deal_number"),
        Index("ix_sale_dealer_date", "dealer_id", "sale_date"),
        Index("ix_sale_vin", "vin"),
    )

    deal_number: str = Field(max_length=40)
    sale_date: dt.date
    customer_name: str = Field(max_length=100)
    customer_phone: str = Field(max_length=20)
    customer_address: str = Field(default="", max_length=200)
    customer_postcode: str = Field(max_length=6)
    customer_type: str = Field(max_length=12)
    vin: str = Field(max_length=17)
    engine_number: str = Field(default="", max_length=200)
    brand: str = Field(max_length=100)
    model: str = Field(max_length=100)
    trim: str = Field(default="", max_length=200)
    color: str = Field(default="", max_length=200)
    model_year: int
    salesperson: str = Field(max_length=100)
    price: Decimal = Field(sa_type=Numeric(12, 2))
    lead_id: uuid.UUID | None = None
    lead_source: str | None = Field(default=None, max_length=20)


class RepairOrder(_SyncedRecord, table=True):
    __table_args__ = (
        UniqueConstraint("dealer_id", "ro_number"),
        Index("ix_repairorder_dealer_opened", "dealer_id", "opened_at"),
        Index("ix_repairorder_vin", "vin"),
    )

    ro_number: str = Field(max_length=40)
    vin: str = Field(max_length=17)
    opened_at: dt.datetime = timestamp()
    closed_at: dt.datetime | None = timestamp(default=None)
    odometer_km: int
    customer_complaint: str = Field(default="", max_length=4000)
    work_performed: str = Field(default="", max_length=4000)
    technician: str = Field(max_length=100)
    labor_hours: Decimal = Field(sa_type=Numeric(6, 2))
    amount: Decimal = Field(sa_type=Numeric(12, 2))
    warranty: bool = False
    parts_count: int = 0


class RepairPart(DealerScoped, SQLModel, table=True):
    """One parts line of a repair order, kept as rows so parts can be counted per model."""

    __table_args__ = (Index("ix_repairpart_part", "part_number"),)

    dealer_id: int = Field(foreign_key="dealer.id", primary_key=True)
    record_id: uuid.UUID = Field(primary_key=True)
    line: int = Field(primary_key=True)
    part_number: str = Field(max_length=40)
    name: str = Field(max_length=100)
    qty: int


class Lead(_SyncedRecord, table=True):
    __table_args__ = (
        Index("ix_lead_dealer_created", "dealer_id", "created_at"),
        # open leads across many dealers (the HQ and region dashboard): migration 0007
        Index("ix_lead_status_dealer", "status", "dealer_id"),
    )

    name: str = Field(max_length=100)
    phone: str = Field(max_length=20)
    interested_model: str = Field(default="", max_length=200)
    purchase_timeframe: str = Field(max_length=20)
    source: str = Field(max_length=20)
    salesperson: str = Field(default="", max_length=200)
    status: str = Field(max_length=20)
    created_at: dt.datetime = timestamp()


class Contact(_SyncedRecord, table=True):
    __table_args__ = (
        Index("ix_contact_dealer_ref", "dealer_id", "customer_ref"),
        Index("ix_contact_dealer_at", "dealer_id", "at"),
    )

    customer_ref: str = Field(max_length=40)
    channel: str = Field(max_length=12)
    at: dt.datetime = timestamp()
    by: str = Field(max_length=100)
    outcome: str = Field(default="", max_length=200)
    notes: str = Field(default="", max_length=4000)


class Complaint(_SyncedRecord, table=True):
    __table_args__ = (
        Index("ix_complaint_dealer_received", "dealer_id", "received_at"),
        Index("ix_complaint_status_dealer", "status", "dealer_id"),  # migration 0007
    )

    customer_ref: str = Field(max_length=40)
    received_at: dt.datetime = timestamp()
    channel: str = Field(max_length=12)
    category: str = Field(max_length=200)
    description: str = Field(max_length=4000)
    status: str = Field(max_length=12)
    answered_at: dt.datetime | None = timestamp(default=None)
    resolved_at: dt.datetime | None = timestamp(default=None)
    resolution: str = Field(default="", max_length=4000)


class Survey(_SyncedRecord, table=True):
    __table_args__ = (Index("ix_survey_dealer_at", "dealer_id", "at"),)

    customer_ref: str = Field(max_length=40)
    about: str = Field(max_length=12)
    score: int
    at: dt.datetime = timestamp()


class SyncReceipt(DealerScoped, SQLModel, table=True):
    """Each (record_id, version) the portal accepted; the key makes a resend a duplicate."""

    dealer_id: int = Field(foreign_key="dealer.id", primary_key=True)
    record_id: uuid.UUID = Field(primary_key=True)
    version: int = Field(primary_key=True)
    kind: str = Field(max_length=20)
    agent_id: uuid.UUID
    epoch: int
    seq: int
    received_at: dt.datetime = timestamp(default_factory=utcnow)


class SyncRejection(DealerScoped, SQLModel, table=True):
    """The portal's log of records it rejected, per agent."""

    __table_args__ = (
        Index("ix_syncrejection_agent", "dealer_id", "agent_id", "at"),
        Index("ix_syncrejection_agent_seq", "dealer_id", "agent_id", "epoch", "seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dealer_id: int = Field(foreign_key="dealer.id")
    agent_id: uuid.UUID
    # with seq, recognises a resent rejected item so it is judged again, not seen as a regression
    epoch: int = 1
    seq: int
    record_id: str | None = Field(default=None, max_length=64)
    code: str = Field(max_length=60)
    message: str = Field(max_length=1000)
    field: str | None = Field(default=None, max_length=200)
    at: dt.datetime = timestamp(default_factory=utcnow)


class ChangeFeed(DealerScoped, SQLModel, table=True):
    """Changes agents pull (order status, catalogue); ``dealer_id`` NULL means every dealer."""

    __tenancy_shared_rows__ = True
    __table_args__ = (Index("ix_changefeed_dealer_id", "dealer_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    dealer_id: int | None = Field(default=None, foreign_key="dealer.id")
    kind: str = Field(max_length=40)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime = timestamp(default_factory=utcnow)
