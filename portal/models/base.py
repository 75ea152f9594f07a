"""Shared column helpers and the marker of dealer-scoped tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime
from sqlmodel import Field


def utcnow() -> dt.datetime:
    """Return the current time in UTC, timezone-aware."""
    return dt.datetime.now(dt.UTC)


def timestamp(**kwargs) -> dt.datetime:
    """A timezone-aware timestamp column."""
    return Field(sa_type=DateTime(timezone=True), **kwargs)


class DealerScoped:
    """Marker: rows belong to one dealer; the tenancy layer filters every query on ``dealer_id``.

    A subclass sets ``__tenancy_shared_rows__ = True`` when rows with no dealer
    (``dealer_id IS NULL``) are meant for every dealer, as broadcast changes are.
    """

    __tenancy_shared_rows__ = False
