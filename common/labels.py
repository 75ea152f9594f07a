"""Display labels of the domain values, as msgids for the shared catalogue."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum

from common.enums import (
    ComplaintStatus,
    ContactChannel,
    CustomerType,
    LeadSource,
    LeadStatus,
    LeadTimeframe,
    RecordKind,
    Role,
    Stage,
    SurveyAbout,
)
from common.i18n import N_


class EnumLabels(Mapping):
    """Labels keyed by enum member, so values spelt alike keep their own label.

    ``RecordKind.sale`` and ``SurveyAbout.sale`` are both the string "sale"; a dict
    would merge them. A plain string finds the label of the first enum defining it.
    """

    def __init__(self, pairs: Iterable[tuple[StrEnum, str]]) -> None:
        self._exact = {(type(member), member.value): text for member, text in pairs}
        self._plain: dict[str, str] = {}
        for (_cls, value), text in self._exact.items():
            self._plain.setdefault(value, text)

    def __getitem__(self, key: object) -> str:
        if isinstance(key, StrEnum):
            return self._exact[(type(key), key.value)]
        return self._plain[key]

    def __contains__(self, key: object) -> bool:
        if isinstance(key, StrEnum):
            return (type(key), key.value) in self._exact
        return key in self._plain

    def __iter__(self) -> Iterator[StrEnum]:
        return (cls(value) for cls, value in self._exact)

    def __len__(self) -> int:
        return len(self._exact)


# Each domain value with its label; members spelt alike (sale, open) are told apart.
LABELS = EnumLabels([
    (RecordKind.sale, N_("Sale")),
    (RecordKind.repair_order, N_("Repair order")),
    (RecordKind.lead, N_("Lead")),
    (RecordKind.contact, N_("Contact")),
    (RecordKind.complaint, N_("Complaint")),
    (RecordKind.survey, N_("Survey")),
    (CustomerType.individual, N_("Individual")),
    (CustomerType.company, N_("Company")),
    (LeadTimeframe.immediate, N_("Immediate")),
    (LeadTimeframe.within_3_months, N_("Within 3 months")),
    (LeadTimeframe.within_6_months, N_("Within 6 months")),
    (LeadTimeframe.within_1_year, N_("Within 1 year")),
    (LeadSource.auto_show, N_("Auto show")),
    (LeadSource.website, N_("Website")),
    (LeadSource.walk_in, N_("Walk-in")),
    (LeadSource.referral, N_("Referral")),
    (LeadSource.phone, N_("Phone")),
    (LeadSource.event, N_("Event")),
    (LeadSource.other, N_("Other")),
    (LeadStatus.open, N_("Open")),
    (LeadStatus.contacted, N_("Contacted")),
    (LeadStatus.appointment, N_("Appointment")),
    (LeadStatus.won, N_("Won")),
    (LeadStatus.lost, N_("Lost")),
    (ContactChannel.visit, N_("Visit")),
    (ContactChannel.call, N_("Call")),
    (ContactChannel.sms, N_("SMS")),
    (ContactChannel.email, N_("Email")),
    (ContactChannel.wechat, N_("WeChat")),
    (ComplaintStatus.open, N_("Open")),
    (ComplaintStatus.answered, N_("Answered")),
    (ComplaintStatus.resolved, N_("Resolved")),
    (SurveyAbout.sale, N_("About a sale")),
    (SurveyAbout.repair, N_("About a repair")),
    (Stage.ordered, N_("Ordered")),
    (Stage.scheduled, N_("Scheduled")),
    (Stage.body, N_("Body")),
    (Stage.paint, N_("Paint")),
    (Stage.assembly, N_("Assembly")),
    (Stage.quality, N_("Quality check")),
    (Stage.warehouse, N_("Finished-vehicle warehouse")),
    (Stage.in_transit, N_("In transit")),
    (Stage.delivered, N_("Delivered to dealer")),
    (Stage.cancelled, N_("Cancelled")),
    (Role.dealer_staff, N_("Dealer staff")),
    (Role.dealer_manager, N_("Dealer manager")),
    (Role.region_manager, N_("Region manager")),
    (Role.hq, N_("Headquarters")),
])


def label(value: StrEnum) -> str:
    """Return the untranslated label (msgid) of an enum value."""
    return LABELS[value]
