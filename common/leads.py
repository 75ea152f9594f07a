"""Lead handling by purchase timeframe (DESIGN §7), shown alike in the portal and the agent.

The seeds sort leads into four buckets by when the customer means to buy, each with its own
handling. :func:`next_action` turns a lead into the salesperson's next to-do; the deadlines
(``due_days`` after the lead was captured) are this product's choice and are documented here.

Baseline conversion (won ÷ leads) comes from the seeds for two buckets only: 10 % of 3-month
leads and 4 % of 1-year leads buy. The seeds give no figure for immediate and 6-month leads, and
an invented figure would mislead the benchmark, so their baseline is ``None`` (shown as "—").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from common.enums import LeadStatus, LeadTimeframe
from common.i18n import N_


@dataclass(frozen=True)
class Handling:
    action: str  # stable code, e.g. for CSV and filters
    label: str  # msgid: the handling in a few words
    instruction: str  # msgid: what the salesperson does
    due_days: int  # days after capture by which the action is due


HANDLING: dict[LeadTimeframe, Handling] = {
    LeadTimeframe.immediate: Handling(
        "follow_up_now", N_("Follow up now"),
        N_("Assign to a salesperson and contact the customer today."), 1),
    LeadTimeframe.within_3_months: Handling(
        "pull_forward", N_("Pull the purchase forward"),
        N_("Offer a test drive or a time-limited incentive to bring the purchase forward."), 7),
    LeadTimeframe.within_6_months: Handling(
        "detailed_material", N_("Send detailed material"),
        N_("Send the brochure, configuration and a quote for the model of interest."), 14),
    LeadTimeframe.within_1_year: Handling(
        "general_material", N_("Send general material"),
        N_("Send general brand material and invite to events; review again later."), 30),
}

BASELINE_CONVERSION: dict[LeadTimeframe, float | None] = {
    LeadTimeframe.immediate: None,
    LeadTimeframe.within_3_months: 0.10,
    LeadTimeframe.within_6_months: None,
    LeadTimeframe.within_1_year: 0.04,
}

ACTIVE_STATUSES = frozenset({LeadStatus.open, LeadStatus.contacted, LeadStatus.appointment})
ASSIGN_LABEL = N_("Assign a salesperson")


@dataclass(frozen=True)
class NextAction:
    action: str
    label: str  # msgid
    instruction: str  # msgid
    due: dt.date
    overdue: bool


def next_action(
    *, timeframe: str, status: str, salesperson: str, created: dt.date, today: dt.date
) -> NextAction | None:
    """The next thing to do about a lead, or None when it is won or lost.

    An immediate lead without a salesperson first needs assigning (the portal does that through a
    manager's correction of the salesperson field).
    """
    if status not in ACTIVE_STATUSES:
        return None
    handling = HANDLING[LeadTimeframe(timeframe)]
    due = created + dt.timedelta(days=handling.due_days)
    if timeframe == LeadTimeframe.immediate and not salesperson.strip():
        return NextAction("assign", ASSIGN_LABEL, handling.instruction, created, created < today)
    return NextAction(handling.action, handling.label, handling.instruction, due, due < today)


def conversion(won: int, total: int) -> float | None:
    """Won ÷ leads, or None when there are no leads."""
    return won / total if total else None
