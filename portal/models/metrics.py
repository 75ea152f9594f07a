"""Precomputed CRM-usage metrics and rollup volumes per dealer and month, sync days and exports.

Aggregates keep numerators and denominators, never only rates, so a region or the
nation sums them and divides once. ``month`` is the first day of the month (UTC).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from portal.models.base import DealerScoped, timestamp, utcnow


class AgentSyncDay(DealerScoped, SQLModel, table=True):
    """A day on which an agent of the dealer pushed successfully (days synced in the month)."""

    dealer_id: int = Field(foreign_key="dealer.id", primary_key=True)
    agent_id: uuid.UUID = Field(primary_key=True)
    day: dt.date = Field(primary_key=True)


class DealerMonthMetric(DealerScoped, SQLModel, table=True):
    """Numerators and denominators of every CRM-usage metric of one dealer in one month."""

    __table_args__ = (Index("ix_dealermonthmetric_month", "month", "region_id"),)

    dealer_id: int = Field(foreign_key="dealer.id", primary_key=True)
    month: dt.date = Field(primary_key=True)
    region_id: int = Field(foreign_key="region.id")
    sales_due: int = 0
    sales_contacted: int = 0
    leads_due: int = 0
    leads_24h: int = 0
    leads_responded: int = 0
    lead_median_h: float | None = None
    leads_immediate: int = 0
    won_immediate: int = 0
    leads_3m: int = 0
    won_3m: int = 0
    leads_6m: int = 0
    won_6m: int = 0
    leads_1y: int = 0
    won_1y: int = 0
    lifecycle_customers: int = 0
    lifecycle_covered: int = 0
    records_checked: int = 0
    records_complete: int = 0
    complaints_due: int = 0
    complaints_24h: int = 0
    surveys: int = 0
    surveys_loyal: int = 0
    sync_days: int = 0
    month_days: int = 0
    usage_index: float | None = None
    computed_at: dt.datetime = timestamp(default_factory=utcnow)


class DealerMonthVolume(DealerScoped, SQLModel, table=True):
    """Sales and repair orders per dealer, month, brand and model ('': VIN not sold here)."""

    __table_args__ = (Index("ix_dealermonthvolume_month", "month", "region_id"),)

    dealer_id: int = Field(foreign_key="dealer.id", primary_key=True)
    month: dt.date = Field(primary_key=True)
    brand: str = Field(max_length=100, primary_key=True)
    model: str = Field(max_length=100, primary_key=True)
    region_id: int = Field(foreign_key="region.id")
    sales: int = 0
    repairs: int = 0


class DealerMonthPart(DealerScoped, SQLModel, table=True):
    """Parts replaced in one dealer's repair orders of a month, per vehicle model."""

    __table_args__ = (Index("ix_dealermonthpart_month", "month", "region_id"),)

    dealer_id: int = Field(foreign_key="dealer.id", primary_key=True)
    month: dt.date = Field(primary_key=True)
    brand: str = Field(max_length=100, primary_key=True)
    model: str = Field(max_length=100, primary_key=True)
    part_number: str = Field(max_length=40, primary_key=True)
    region_id: int = Field(foreign_key="region.id")
    name: str = Field(max_length=100)
    qty: int = 0
    repairs: int = 0


class Export(SQLModel, table=True):
    """A background export of one table; only the user who asked (or their dealer) downloads it."""

    __table_args__ = (Index("ix_export_user_created", "user_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    dealer_id: int | None = Field(default=None, foreign_key="dealer.id")
    table: str = Field(max_length=40)
    params: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    fmt: str = Field(max_length=4)  # csv | xlsx
    status: str = Field(default="queued", max_length=10)  # queued|running|done|failed
    rows_total: int = 0
    rows_done: int = 0
    file_path: str = Field(default="", max_length=500)
    error: str = Field(default="", max_length=500)
    created_at: dt.datetime = timestamp(default_factory=utcnow)
    finished_at: dt.datetime | None = timestamp(default=None)


class MetricsGeneration(SQLModel, table=True):
    """One row, bumped by every refresh of the aggregates in the refresh's own transaction.

    Pages keep figures computed from the aggregates per process and per generation
    (:class:`portal.services.metrics.Memo`): reading this row is their freshness check.
    """

    id: int = Field(default=1, primary_key=True)
    generation: int = 0
    refreshed_at: dt.datetime = timestamp(default_factory=utcnow)


class RegionMonthVolume(SQLModel, table=True):
    """DealerMonthVolume summed per region, for pages whose scope is national (HQ)."""

    region_id: int = Field(foreign_key="region.id", primary_key=True)
    month: dt.date = Field(primary_key=True)
    brand: str = Field(max_length=100, primary_key=True)
    model: str = Field(max_length=100, primary_key=True)
    sales: int = 0
    repairs: int = 0


class RegionMonthPart(SQLModel, table=True):
    """DealerMonthPart summed per region, for pages whose scope is national (HQ)."""

    region_id: int = Field(foreign_key="region.id", primary_key=True)
    month: dt.date = Field(primary_key=True)
    brand: str = Field(max_length=100, primary_key=True)
    model: str = Field(max_length=100, primary_key=True)
    part_number: str = Field(max_length=40, primary_key=True)
    name: str = Field(max_length=100)
    qty: int = 0
    repairs: int = 0
