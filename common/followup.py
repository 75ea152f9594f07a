"""Follow-up rules (DESIGN §7): the agent and the portal compute the same tasks with this code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from common.i18n import N_


@dataclass(frozen=True)
class FollowUpRules:
    """How often a customer must be contacted after a sale; configurable per deployment."""

    first_contact_days: int = 30
    periodic_interval_days: int = 180
    lifecycle_years: int = 5
    horizon_days: int = 7  # tasks due this far ahead are listed as upcoming


DEFAULT_RULES = FollowUpRules()
TASK_LABELS = {"first_contact": N_("First contact after sale"), "periodic": N_("Periodic contact")}


@dataclass(frozen=True)
class SaleFacts:
    record_id: str
    vin: str
    sale_date: dt.date
    customer_name: str
    salesperson: str


@dataclass(frozen=True)
class ContactFacts:
    customer_ref: str
    at: dt.date


@dataclass(frozen=True)
class FollowUpTask:
    sale_record_id: str
    vin: str
    customer_name: str
    salesperson: str
    task: str  # "first_contact" or "periodic"
    due: dt.date
    overdue: bool


def _last_contacts(contacts: Iterable[ContactFacts]) -> dict[str, list[dt.date]]:
    by_ref: dict[str, list[dt.date]] = {}
    for contact in contacts:
        by_ref.setdefault(contact.customer_ref, []).append(contact.at)
    return by_ref


def task_for_sale(
    sale: SaleFacts, contact_dates: Iterable[dt.date], today: dt.date, rules: FollowUpRules
) -> FollowUpTask | None:
    """Return the next follow-up owed for *sale*, or None when nothing is due within the horizon."""
    after_sale = [d for d in contact_dates if d >= sale.sale_date]
    if after_sale:
        task, due = "periodic", max(after_sale) + dt.timedelta(days=rules.periodic_interval_days)
    else:
        task, due = "first_contact", sale.sale_date + dt.timedelta(days=rules.first_contact_days)
    lifecycle_end = sale.sale_date + dt.timedelta(days=round(365.25 * rules.lifecycle_years))
    if due > lifecycle_end or due > today + dt.timedelta(days=rules.horizon_days):
        return None
    return FollowUpTask(
        sale.record_id, sale.vin, sale.customer_name, sale.salesperson, task, due, due < today
    )


def compute_tasks(
    sales: Iterable[SaleFacts],
    contacts: Iterable[ContactFacts],
    today: dt.date,
    rules: FollowUpRules = DEFAULT_RULES,
) -> list[FollowUpTask]:
    """Return every follow-up task due or overdue by *today* (plus the horizon), oldest first.

    A contact counts for a sale when its ``customer_ref`` is the sold VIN or the
    sale's record_id.
    """
    by_ref = _last_contacts(contacts)
    tasks = []
    for sale in sales:
        dates = by_ref.get(sale.vin, []) + by_ref.get(sale.record_id, [])
        task = task_for_sale(sale, dates, today, rules)
        if task is not None:
            tasks.append(task)
    return sorted(tasks, key=lambda t: (t.due, t.vin))
