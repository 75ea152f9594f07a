"""All table models of the portal, one module per area, imported here for Alembic."""

from portal.models.base import DealerScoped, utcnow
from portal.models.core import Agent, AuditLog, Dealer, Enrollment, JobLock, Region, User
from portal.models.crm import ComplaintEscalation, RecordCorrection, RecordNote
from portal.models.records import (
    ChangeFeed,
    Complaint,
    Contact,
    Lead,
    RepairOrder,
    RepairPart,
    Sale,
    Survey,
    SyncReceipt,
    SyncRejection,
)

__all__ = [
    "Agent",
    "AuditLog",
    "ChangeFeed",
    "Complaint",
    "ComplaintEscalation",
    "Contact",
    "Dealer",
    "DealerScoped",
    "Enrollment",
    "JobLock",
    "Lead",
    "RecordCorrection",
    "RecordNote",
    "Region",
    "RepairOrder",
    "RepairPart",
    "Sale",
    "Survey",
    "SyncReceipt",
    "SyncRejection",
    "User",
    "utcnow",
]
