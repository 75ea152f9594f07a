"""Follow-up tasks in the portal: DB rows → shared facts → common.followup.compute_tasks.

Tasks are computed per dealer from that dealer's own sales and contacts, exactly what the dealer's
agent holds offline, so both sides show the same tasks (tests/integration/test_crm_followup.py).

Contacts are captured at the dealership (agent), so the portal has no "log contact" button: a
task links to the instructions for logging it in the agent, and a manager may annotate the task
(a note on its sale, audited) e.g. "customer abroad until May".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session, select

from common.followup import (
    ContactFacts,
    FollowUpRules,
    FollowUpTask,
    SaleFacts,
    compute_tasks,
    local_date,
)
from portal.models import Contact, Dealer, Sale


def sale_facts(rows) -> list[SaleFacts]:
    """Facts of Sale rows (or rows with the same named columns)."""
    return [SaleFacts(str(r.record_id), r.vin, r.sale_date, r.customer_name, r.salesperson)
            for r in rows]


def contact_facts(rows) -> list[ContactFacts]:
    return [ContactFacts(r.customer_ref, local_date(r.at)) for r in rows]


def dealer_facts(*, session: Session, dealer_id: int) -> tuple[list[SaleFacts], list[ContactFacts]]:
    """The facts of one dealer's sales and contacts (within the session's scope)."""
    sales = session.execute(select(Sale.record_id, Sale.vin, Sale.sale_date, Sale.customer_name,
                                   Sale.salesperson).where(Sale.dealer_id == dealer_id))
    contacts = session.execute(select(Contact.customer_ref, Contact.at)
                               .where(Contact.dealer_id == dealer_id))
    return sale_facts(sales), contact_facts(contacts)


def dealer_tasks(*, session: Session, dealer_id: int, today: dt.date,
                 rules: FollowUpRules) -> list[FollowUpTask]:
    """One dealer's follow-up tasks, as its agent computes them."""
    sales, contacts = dealer_facts(session=session, dealer_id=dealer_id)
    return compute_tasks(sales, contacts, today, rules)


@dataclass(frozen=True)
class TaskFilters:
    dealer_id: int | None = None
    salesperson: str = ""
    task: str = ""
    state: str = ""  # overdue | due | upcoming
    q: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> TaskFilters:
        raw = args.get("dealer", "")
        return cls(int(raw) if raw.isdigit() else None, args.get("salesperson", "").strip(),
                   args.get("task", "") if args.get("task") in ("first_contact", "periodic")
                   else "", args.get("state", "") if args.get("state") in STATES else "",
                   args.get("q", "").strip()[:100])


STATES = ("overdue", "due", "upcoming")


def state_of(task: FollowUpTask, today: dt.date) -> str:
    if task.overdue:
        return "overdue"
    return "due" if task.due == today else "upcoming"


def matches(task: FollowUpTask, filters: TaskFilters, today: dt.date) -> bool:
    q = filters.q.lower()
    return ((not filters.salesperson or task.salesperson == filters.salesperson)
            and (not filters.task or task.task == filters.task)
            and (not filters.state or state_of(task, today) == filters.state)
            and (not q or q in task.customer_name.lower() or q in task.vin.lower()))


@dataclass(frozen=True)
class SalespersonLoad:
    salesperson: str
    overdue: int
    due: int
    upcoming: int


def by_salesperson(tasks: list[FollowUpTask], today: dt.date) -> list[SalespersonLoad]:
    counts: dict[str, dict[str, int]] = {}
    for task in tasks:
        row = counts.setdefault(task.salesperson, dict.fromkeys(STATES, 0))
        row[state_of(task, today)] += 1
    return [SalespersonLoad(name, **row) for name, row in
            sorted(counts.items(), key=lambda kv: (-kv[1]["overdue"], kv[0]))]


def dealers_in_scope(*, session: Session, dealer_ids: frozenset[int] | None) -> list[Dealer]:
    stmt = select(Dealer).order_by(Dealer.code)
    if dealer_ids is not None:
        stmt = stmt.where(Dealer.id.in_(dealer_ids))
    return list(session.exec(stmt))
