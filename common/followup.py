"""Follow-up rules (DESIGN §7): the agent and the portal compute the same tasks with this code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from zoneinfo import ZoneInfo

from common import schemas
from common.i18n import N_

# Dates of contacts count in the dealers' time zone, on both sides, whatever the device clock says.
BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class FollowUpRules:
    """How often a customer must be contacted after a sale; configurable per deployment."""

    first_contact_days: int = 30
    periodic_interval_days: int = 180
    lifecycle_years: int = 5
    horizon_days: int = 7  # tasks due this far ahead are listed as upcoming


DEFAULT_RULES = FollowUpRules()
TASK_LABELS = {"first_contact": N_("First contact after sale"), "periodic": N_("Periodic contact")}
# environment variable of each rule, e.g. FOLLOWUP_FIRST_CONTACT_DAYS=14
RULE_ENV = {f.name: f"FOLLOWUP_{f.name.upper()}" for f in fields(FollowUpRules)}


def rules_from_env(env: Mapping[str, str], base: FollowUpRules = DEFAULT_RULES) -> FollowUpRules:
    """Return *base* with every rule overridden by its ``FOLLOWUP_*`` variable in *env*.

    Raises ValueError naming the variable when a value is not a whole number >= 0.
    """
    values = {}
    for name, var in RULE_ENV.items():
        raw = env.get(var)
        if raw is None or raw == "":
            continue
        if not raw.strip().isdigit():
            raise ValueError(f"{var} must be a whole number (days, or years for the lifecycle), "
                             f"got {raw!r}")
        values[name] = int(raw)
    return FollowUpRules(**{**base.__dict__, **values})


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


def local_date(at: dt.datetime) -> dt.date:
    """The business-day date of a timestamp; a naive timestamp is taken as UTC."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(BUSINESS_TZ).date()


def sale_facts(sale: schemas.Sale) -> SaleFacts:
    """What the follow-up rules need of a wire sale record."""
    return SaleFacts(str(sale.record_id), sale.vehicle.vin, sale.sale_date,
                     sale.customer.name, sale.salesperson)


def contact_facts(contact: schemas.Contact) -> ContactFacts:
    """What the follow-up rules need of a wire contact record."""
    return ContactFacts(contact.customer_ref, local_date(contact.at))


def facts_from_wire(
    records: Iterable[schemas.RecordHeader],
) -> tuple[list[SaleFacts], list[ContactFacts]]:
    """Split wire records into the sale and contact facts the rules use; other kinds are ignored.

    The agent feeds its local records through this; the portal's adapter must give the same facts.
    """
    sales, contacts = [], []
    for record in records:
        if isinstance(record, schemas.Sale):
            sales.append(sale_facts(record))
        elif isinstance(record, schemas.Contact):
            contacts.append(contact_facts(record))
    return sales, contacts


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
