"""Figures for the dashboard, computed within the session's tenancy scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Row, bindparam, func
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
from portal.tenancy import built_once


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
    """Count this month's sales and repairs, open leads and complaints, and agent freshness.

    One statement of scalar subqueries: each count is its own subquery, filtered to the scope by
    the tenancy layer, and one round trip costs far less than seven.
    """
    start = month_start(today)
    counts = session.exec(_SUMMARY, params=_bounds(start, now)).one()
    return Summary(start, *counts)


def dealer_summary(*, session: Session, dealer_id: int, today: dt.date, now: dt.datetime
                   ) -> tuple[Summary, Row]:
    """One dealer's summary and its names (``name_zh``, ``name_en``), in the same round trip."""
    start = month_start(today)
    params = {**_bounds(start, now), "dealer_id": dealer_id}
    row = session.exec(_DEALER_SUMMARY, params=params).one()
    return Summary(start, *row[:-2]), row


def _bounds(start: dt.date, now: dt.datetime) -> dict:
    return {"start": start, "start_ts": dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC),
            "silent_since": now - dt.timedelta(hours=24)}


def _count(model, *where):
    return select(func.count()).select_from(model).where(*where).scalar_subquery()


_LIVE_AGENT = Agent.revoked_at.is_(None)
# the counts of Summary's fields, in their order; built once (building it took a tenth of the
# page's CPU), the month and the time bound at execution
_SUMMARY = built_once(select(
    _count(Sale, Sale.sale_date >= bindparam("start")),
    _count(RepairOrder, RepairOrder.opened_at >= bindparam("start_ts")),
    _count(Lead, Lead.status.in_(["open", "contacted"])),
    _count(Complaint, Complaint.status == "open"),
    _count(ComplaintEscalation, ComplaintEscalation.cleared_at.is_(None)),
    _count(Agent, _LIVE_AGENT),
    # the agents page's rule: a new agent gets 24 h from enrolment to sync
    _count(Agent, _LIVE_AGENT,
           func.coalesce(Agent.last_success_at, Agent.created_at) < bindparam("silent_since")),
))

_DEALER = Dealer.id == bindparam("dealer_id")
_DEALER_SUMMARY = built_once(_SUMMARY.add_columns(
    select(Dealer.name_zh).where(_DEALER).scalar_subquery().label("name_zh"),
    select(Dealer.name_en).where(_DEALER).scalar_subquery().label("name_en")))


def visible_dealers(*, session: Session, dealer_ids: frozenset[int] | None) -> list[Dealer]:
    """The dealers a scope covers, ordered by code."""
    stmt = select(Dealer).order_by(Dealer.code)
    if dealer_ids is not None:
        stmt = stmt.where(Dealer.id.in_(dealer_ids))
    return list(session.exec(stmt))
