"""Wire schemas of the synced records (DESIGN §4), validated identically on both sides."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal, Union
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter

from common.enums import (
    ComplaintStatus,
    ContactChannel,
    CustomerType,
    LeadSource,
    LeadStatus,
    LeadTimeframe,
    SurveyAbout,
)
from common.validators import validate_phone, validate_postcode, validate_vin

Vin = Annotated[str, AfterValidator(validate_vin)]
Phone = Annotated[str, AfterValidator(validate_phone)]
Postcode = Annotated[str, AfterValidator(validate_postcode)]
Text = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=4000)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
BusinessKey = Annotated[str, Field(min_length=1, max_length=40)]
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class RecordHeader(_Wire):
    """What every synced record carries."""

    record_id: UUID
    dealer_code: Annotated[str, Field(min_length=1, max_length=20)]
    version: Annotated[int, Field(ge=1)]
    updated_at: dt.datetime


class Customer(_Wire):
    name: Name
    phone: Phone
    address: Text = ""
    postcode: Postcode
    customer_type: CustomerType = CustomerType.individual


class Vehicle(_Wire):
    vin: Vin
    engine_number: Text = ""
    brand: Name
    model: Name
    trim: Text = ""
    color: Text = ""
    model_year: Annotated[int, Field(ge=1990, le=2100)]


class Sale(RecordHeader):
    kind: Literal["sale"] = "sale"
    deal_number: BusinessKey
    sale_date: dt.date
    customer: Customer
    vehicle: Vehicle
    salesperson: Name
    price: Money
    lead_id: UUID | None = None
    lead_source: LeadSource | None = None


class Part(_Wire):
    part_number: Annotated[str, Field(min_length=1, max_length=40)]
    name: Name
    qty: Annotated[int, Field(ge=1, le=1000)]


class RepairOrder(RecordHeader):
    kind: Literal["repair_order"] = "repair_order"
    ro_number: BusinessKey
    vin: Vin
    opened_at: dt.datetime
    closed_at: dt.datetime | None = None
    odometer_km: Annotated[int, Field(ge=0, le=2_000_000)]
    customer_complaint: LongText = ""
    work_performed: LongText = ""
    parts: Annotated[list[Part], Field(max_length=200)] = []
    technician: Name
    labor_hours: Annotated[Decimal, Field(ge=0, max_digits=6, decimal_places=2)] = Decimal(0)
    amount: Money = Decimal(0)
    warranty: bool = False


class Lead(RecordHeader):
    kind: Literal["lead"] = "lead"
    name: Name
    phone: Phone
    interested_model: Text = ""
    purchase_timeframe: LeadTimeframe
    source: LeadSource
    salesperson: Text = ""
    status: LeadStatus = LeadStatus.open
    # when the lead was first captured; the portal falls back to updated_at
    created_at: dt.datetime | None = None


class Contact(RecordHeader):
    kind: Literal["contact"] = "contact"
    customer_ref: Annotated[str, Field(min_length=1, max_length=40)]
    channel: ContactChannel
    at: dt.datetime
    by: Name
    outcome: Text = ""
    notes: LongText = ""


class Complaint(RecordHeader):
    kind: Literal["complaint"] = "complaint"
    customer_ref: Annotated[str, Field(min_length=1, max_length=40)]
    received_at: dt.datetime
    channel: ContactChannel
    category: Text
    description: LongText
    status: ComplaintStatus = ComplaintStatus.open
    answered_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    resolution: LongText = ""


class Survey(RecordHeader):
    kind: Literal["survey"] = "survey"
    customer_ref: Annotated[str, Field(min_length=1, max_length=40)]
    about: SurveyAbout
    score: Annotated[int, Field(ge=1, le=5)]
    at: dt.datetime


AnyRecord = Annotated[
    Union[Sale, RepairOrder, Lead, Contact, Complaint, Survey],  # noqa: UP007
    Field(discriminator="kind"),
]
RECORD_ADAPTER: TypeAdapter[AnyRecord] = TypeAdapter(AnyRecord)
RECORD_MODELS: dict[str, type[RecordHeader]] = {
    m.model_fields["kind"].default: m for m in (Sale, RepairOrder, Lead, Contact, Complaint, Survey)
}
BUSINESS_KEYS: dict[str, str | None] = {
    "sale": "deal_number",
    "repair_order": "ro_number",
    "lead": None,
    "contact": None,
    "complaint": None,
    "survey": None,
}


def parse_record(data: dict) -> RecordHeader:
    """Validate one record of any kind; raises pydantic.ValidationError."""
    return RECORD_ADAPTER.validate_python(data)
