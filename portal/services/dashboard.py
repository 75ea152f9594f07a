"""Figures for the dashboard, computed within the session's tenancy scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from portal.models import (
    Agent,
    Complaint,
    ComplaintEscalation,
    Dealer,
    Lead,
    RepairOrder,
    Sale,
)


@dataclass(frozen=True)
class Summary:
    month_start: dt.date
    sales: int
    repairs: int
    open_leads: int
    open_complaints: int
    escalated_complaints: int
    agents: int
    stale_agents: int


def month_start(today: dt.date) -> dt.date:
    return today.replace(day=1)


def summary(*, session: Session, today: dt.date, now: dt.datetime) -> Summary:
    """Count this month's sales and repairs, open leads and complaints, and agent freshness."""
    start = month_start(today)
    start_ts = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    silent_since = now - dt.timedelta(hours=24)

    def count(stmt) -> int:
        return session.exec(stmt).one()

    return Summary(
        month_start=start,
        sales=count(select(func.count()).select_from(Sale).where(Sale.sale_date >= start)),
        repairs=count(
            select(func.count()).select_from(RepairOrder).where(RepairOrder.opened_at >= start_ts)
        ),
        open_leads=count(
            select(func.count()).select_from(Lead).where(Lead.status.in_(["open", "contacted"]))
        ),
        open_complaints=count(
            select(func.count()).select_from(Complaint).where(Complaint.status == "open")
        ),
        escalated_complaints=count(
            select(func.count())
            .select_from(ComplaintEscalation)
            .where(ComplaintEscalation.cleared_at.is_(None))
        ),
        agents=count(select(func.count()).select_from(Agent).where(Agent.revoked_at.is_(None))),
        stale_agents=count(
            select(func.count())
            .select_from(Agent)
            .where(Agent.revoked_at.is_(None))
            # the agents page's rule: a new agent gets 24 h from enrolment to sync
            .where(func.coalesce(Agent.last_success_at, Agent.created_at) < silent_since)
        ),
    )


def visible_dealers(*, session: Session, dealer_ids: frozenset[int] | None) -> list[Dealer]:
    """The dealers a scope covers, ordered by code."""
    stmt = select(Dealer).order_by(Dealer.code)
    if dealer_ids is not None:
        stmt = stmt.where(Dealer.id.in_(dealer_ids))
    return list(session.exec(stmt))
