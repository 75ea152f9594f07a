"""Failed logins, kept so that login throttling works across every portal process."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from portal.models.base import timestamp, utcnow


class LoginAttempt(SQLModel, table=True):
    """One failed login: the (lower-cased) username tried and the client address."""

    __table_args__ = (Index("ix_loginattempt_username_at", "username", "at"),
                      Index("ix_loginattempt_ip_at", "ip", "at"))

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = timestamp(default_factory=utcnow, index=True)
    username: str = Field(max_length=80)
    ip: str = Field(max_length=45)
