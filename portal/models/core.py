"""Regions, dealers, users, agents, enrolments and the audit log."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from common.enums import Role
from portal.models.base import DealerScoped, timestamp, utcnow


class Region(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    name_zh: str = Field(max_length=100)
    name_en: str = Field(max_length=100)


class Dealer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    region_id: int = Field(foreign_key="region.id", index=True)
    city_zh: str = Field(max_length=100)
    city_en: str = Field(max_length=100)


class User(DealerScoped, SQLModel, table=True):
    """A portal login; dealer users are scoped to their dealer, HQ and region users have none."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True)
    password_hash: str = Field(max_length=255)
    display_name: str = Field(max_length=100)
    role: Role = Field(max_length=20)
    dealer_id: int | None = Field(default=None, foreign_key="dealer.id", index=True)
    region_id: int | None = Field(default=None, foreign_key="region.id")
    active: bool = True
    created_at: dt.datetime = timestamp(default_factory=utcnow)

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class Agent(DealerScoped, SQLModel, table=True):
    """An enrolled sync agent; its token is stored only as a hash."""

    dealer_id: int = Field(foreign_key="dealer.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(default="", max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    epoch: int = 1
    high_water_seq: int = 0
    created_at: dt.datetime = timestamp(default_factory=utcnow)
    revoked_at: dt.datetime | None = timestamp(default=None)
    agent_version: str = Field(default="", max_length=40)
    last_seen_at: dt.datetime | None = timestamp(default=None)
    last_success_at: dt.datetime | None = timestamp(default=None)
    pending_count: int = 0
    oldest_pending_age_s: float | None = None
    quarantine_count: int = 0
    # the last request-level error answered to this agent (e.g. unsupported_schema), for the page
    last_error: str = Field(default="", max_length=200)


class Enrollment(DealerScoped, SQLModel, table=True):
    """A one-time, expiring code a manager issues so an agent can enrol."""

    id: int | None = Field(default=None, primary_key=True)
    dealer_id: int = Field(foreign_key="dealer.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    expires_at: dt.datetime = timestamp()
    used_at: dt.datetime | None = timestamp(default=None)
    agent_id: uuid.UUID | None = None
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: dt.datetime = timestamp(default_factory=utcnow)


class AuditLog(DealerScoped, SQLModel, table=True):
    """Who did what and when; entries without a dealer are visible to HQ only."""

    __table_args__ = (Index("ix_auditlog_dealer_at", "dealer_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = timestamp(default_factory=utcnow)
    dealer_id: int | None = Field(default=None, foreign_key="dealer.id")
    actor_user_id: int | None = Field(default=None, foreign_key="user.id")
    actor: str = Field(default="", max_length=100)
    action: str = Field(max_length=60)
    target: str = Field(default="", max_length=200)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class JobLock(SQLModel, table=True):
    """A lease per periodic job so it runs once across all portal processes."""

    name: str = Field(max_length=60, primary_key=True)
    owner: str = Field(default="", max_length=100)
    lease_until: dt.datetime | None = timestamp(default=None)
    last_run_at: dt.datetime | None = timestamp(default=None)
    last_error: str = Field(default="", max_length=1000)
