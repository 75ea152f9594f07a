"""CRM state the portal adds to synced records: corrections, annotations, escalations.

Synced records belong to the dealer's agent and are replaced by each newer version. What a
manager changes in the portal is therefore never written into the record itself: it is kept
here as an overlay and applied when the record is shown (see portal.services.crm_corrections).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from portal.models.base import DealerScoped, timestamp, utcnow


class RecordCorrection(DealerScoped, SQLModel, table=True):
    """A manager's value for one field of a synced record, shown instead of the synced value.

    ``based_on_version`` and ``original`` remember the synced version and value the manager
    corrected; when a newer version brings a different value the correction turns ``conflict``.
    Status: active | conflict | withdrawn.
    """

    __table_args__ = (Index("ix_recordcorrection_record", "dealer_id", "kind", "record_id"),)

    dealer_id: int = Field(foreign_key="dealer.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(max_length=20)
    record_id: uuid.UUID
    field: str = Field(max_length=40)
    value: str = Field(max_length=4000)
    original: str = Field(default="", max_length=4000)
    based_on_version: int
    status: str = Field(default="active", max_length=12)
    conflict_value: str | None = Field(default=None, max_length=4000)
    by: str = Field(max_length=100)
    by_user_id: int | None = Field(default=None, foreign_key="user.id")
    at: dt.datetime = timestamp(default_factory=utcnow)


class RecordNote(DealerScoped, SQLModel, table=True):
    """A manager's annotation of a synced record (also of a follow-up task, via its sale)."""

    __table_args__ = (Index("ix_recordnote_record", "dealer_id", "kind", "record_id"),)

    dealer_id: int = Field(foreign_key="dealer.id", primary_key=True)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(max_length=20)
    record_id: uuid.UUID
    text: str = Field(max_length=2000)
    by: str = Field(max_length=100)
    by_user_id: int | None = Field(default=None, foreign_key="user.id")
    at: dt.datetime = timestamp(default_factory=utcnow)


class ComplaintEscalation(DealerScoped, SQLModel, table=True):
    """A complaint left unanswered past its 24-hour target, escalated once by the scheduled job."""

    __table_args__ = (Index("ix_complaintescalation_at", "dealer_id", "escalated_at"),)

    dealer_id: int = Field(foreign_key="dealer.id", primary_key=True)
    record_id: uuid.UUID = Field(primary_key=True)
    due_at: dt.datetime = timestamp()
    escalated_at: dt.datetime = timestamp(default_factory=utcnow)
    cleared_at: dt.datetime | None = timestamp(default=None)
