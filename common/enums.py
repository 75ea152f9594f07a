"""Enumerations shared by the wire format, the agent's store and the portal."""

from __future__ import annotations

from enum import StrEnum


class RecordKind(StrEnum):
    sale = "sale"
    repair_order = "repair_order"
    lead = "lead"
    contact = "contact"
    complaint = "complaint"
    survey = "survey"


class CustomerType(StrEnum):
    individual = "individual"
    company = "company"


class LeadTimeframe(StrEnum):
    immediate = "immediate"
    within_3_months = "within_3_months"
    within_6_months = "within_6_months"
    within_1_year = "within_1_year"


class LeadSource(StrEnum):
    auto_show = "auto_show"
    website = "website"
    walk_in = "walk_in"
    referral = "referral"
    phone = "phone"
    event = "event"
    other = "other"


class LeadStatus(StrEnum):
    open = "open"
    contacted = "contacted"
    appointment = "appointment"
    won = "won"
    lost = "lost"


class ContactChannel(StrEnum):
    visit = "visit"
    call = "call"
    sms = "sms"
    email = "email"
    wechat = "wechat"


class ComplaintStatus(StrEnum):
    open = "open"
    answered = "answered"
    resolved = "resolved"


class SurveyAbout(StrEnum):
    sale = "sale"
    repair = "repair"


class Stage(StrEnum):
    """Production stages of an ordered vehicle, in order; ``cancelled`` stands apart."""

    ordered = "ordered"
    scheduled = "scheduled"
    body = "body"
    paint = "paint"
    assembly = "assembly"
    quality = "quality"
    warehouse = "warehouse"
    in_transit = "in_transit"
    delivered = "delivered"
    cancelled = "cancelled"

    @property
    def rank(self) -> int:
        """Position in the production flow; cancelled ranks after delivered."""
        return list(Stage).index(self)


PRODUCTION_STAGES: tuple[Stage, ...] = tuple(s for s in Stage if s is not Stage.cancelled)


class Role(StrEnum):
    dealer_staff = "dealer_staff"
    dealer_manager = "dealer_manager"
    region_manager = "region_manager"
    hq = "hq"
