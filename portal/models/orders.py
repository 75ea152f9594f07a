"""Vehicle orders, their vehicles' production stages and ETAs, and the factory feed.

Order tables are dealer-scoped and keyed by ``dealer_id`` first; each unit of an
order line is an :class:`OrderVehicle` that moves through the stages on its own.
Factory tokens and event receipts belong to HQ and the factory, not to a dealer.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import JSON, Column, Index, Numeric
from sqlmodel import Field, SQLModel

from portal.models.base import DealerScoped, timestamp, utcnow


class OrderSequence(DealerScoped, SQLModel, table=True):
    """The last order number handed out per dealer and year."""

    dealer_id: int = Field(foreign_key="dealer.id", primary_key=True)
    year: int = Field(primary_key=True)
    last: int = 0


class VehicleOrder(DealerScoped, SQLModel, table=True):
    __table_args__ = (Index("ix_vehicleorder_dealer_created", "dealer_id", "created_at"),)

    dealer_id: int = Field(foreign_key="dealer.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    number: str = Field(max_length=40, unique=True)
    kind: str = Field(max_length=10)  # retail | stock
    customer_name: str = Field(default="", max_length=100)
    customer_phone: str = Field(default="", max_length=20)
    lead_id: uuid.UUID | None = None
    delivery_point: str = Field(max_length=200)
    priority: str = Field(default="normal", max_length=10)
    notes: str = Field(default="", max_length=2000)
    created_at: dt.datetime = timestamp(default_factory=utcnow)
    created_by: str = Field(default="", max_length=100)


class OrderLine(DealerScoped, SQLModel, table=True):
    """A configured vehicle ordered ``quantity`` times; ``config`` keeps the names as ordered."""

    dealer_id: int = Field(foreign_key="dealer.id", primary_key=True)
    order_id: uuid.UUID = Field(primary_key=True)
    line: int = Field(primary_key=True)
    model_id: int = Field(foreign_key="carmodel.id", index=True)
    trim_code: str = Field(max_length=30)
    colour_code: str = Field(max_length=30)
    option_codes: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    quantity: int
    unit_price: Decimal = Field(sa_type=Numeric(12, 2))
    config: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class OrderVehicle(DealerScoped, SQLModel, table=True):
    """One vehicle (unit) of an order line, with its current stage and ETA range."""

    __table_args__ = (Index("ix_ordervehicle_stage", "stage", "stage_at"),)

    dealer_id: int = Field(foreign_key="dealer.id", primary_key=True)
    order_id: uuid.UUID = Field(primary_key=True)
    line: int = Field(primary_key=True)
    unit: int = Field(primary_key=True)
    stage: str = Field(default="ordered", max_length=20)
    stage_at: dt.datetime = timestamp(default_factory=utcnow)
    vin: str | None = Field(default=None, max_length=17, unique=True)
    eta_from: dt.date | None = None
    eta_to: dt.date | None = None
    eta_reason: str = Field(default="", max_length=500)


class StageHistory(DealerScoped, SQLModel, table=True):
    """Each stage report of a vehicle; ``applied`` is false for late, out-of-order reports."""

    __table_args__ = (Index("ix_stagehistory_vehicle", "dealer_id", "order_id", "line", "unit"),)

    dealer_id: int = Field(foreign_key="dealer.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    order_id: uuid.UUID
    line: int
    unit: int
    stage: str = Field(max_length=20)
    at: dt.datetime = timestamp()
    applied: bool = True
    source: str = Field(default="factory", max_length=20)
    event_id: str | None = Field(default=None, max_length=100)
    recorded_at: dt.datetime = timestamp(default_factory=utcnow)


class EtaHistory(DealerScoped, SQLModel, table=True):
    """Each ETA range a vehicle was given, when and why."""

    __table_args__ = (Index("ix_etahistory_vehicle", "dealer_id", "order_id", "line", "unit"),)

    dealer_id: int = Field(foreign_key="dealer.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    order_id: uuid.UUID
    line: int
    unit: int
    eta_from: dt.date
    eta_to: dt.date
    reason: str = Field(default="", max_length=500)
    at: dt.datetime = timestamp()
    event_id: str | None = Field(default=None, max_length=100)


class FactoryToken(SQLModel, table=True):
    """A bearer token of the factory system; only its SHA-256 is stored."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    hint: str = Field(default="", max_length=12)
    created_at: dt.datetime = timestamp(default_factory=utcnow)
    created_by: str = Field(default="", max_length=100)
    revoked_at: dt.datetime | None = timestamp(default=None)
    last_used_at: dt.datetime | None = timestamp(default=None)


class FactoryEventReceipt(SQLModel, table=True):
    """Each factory event_id already processed, so a resend is answered ``duplicate``."""

    event_id: str = Field(max_length=100, primary_key=True)
    outcome: str = Field(max_length=30)
    token_id: int | None = Field(default=None, foreign_key="factorytoken.id")
    received_at: dt.datetime = timestamp(default_factory=utcnow)
