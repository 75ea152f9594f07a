"""All table models of the portal, one module per area, imported here for Alembic."""

from portal.models.base import DealerScoped, utcnow
from portal.models.catalogue import (
    Brand,
    CarModel,
    CatalogueOption,
    CatalogueRule,
    Colour,
    Trim,
)
from portal.models.core import Agent, AuditLog, Dealer, Enrollment, JobLock, Region, User
from portal.models.crm import ComplaintEscalation, RecordCorrection, RecordNote
from portal.models.orders import (
    EtaHistory,
    FactoryEventReceipt,
    FactoryToken,
    OrderLine,
    OrderSequence,
    OrderVehicle,
    StageHistory,
    VehicleOrder,
)
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
    "Brand",
    "CarModel",
    "CatalogueOption",
    "CatalogueRule",
    "ChangeFeed",
    "Colour",
    "Complaint",
    "ComplaintEscalation",
    "Contact",
    "Dealer",
    "DealerScoped",
    "Enrollment",
    "EtaHistory",
    "FactoryEventReceipt",
    "FactoryToken",
    "JobLock",
    "Lead",
    "OrderLine",
    "OrderSequence",
    "OrderVehicle",
    "RecordCorrection",
    "RecordNote",
    "Region",
    "RepairOrder",
    "RepairPart",
    "Sale",
    "StageHistory",
    "Survey",
    "SyncReceipt",
    "SyncRejection",
    "Trim",
    "User",
    "VehicleOrder",
    "utcnow",
]
