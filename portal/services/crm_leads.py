"""Leads by purchase timeframe: the list, each salesperson's next actions, conversion per bucket.

Handling rules and baselines are shared with the agent and live in :mod:`common.leads`. A
manager assigns a lead by correcting its ``salesperson`` (an overlay, see crm_corrections), so
the to-do list reads the effective values, overlay included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, true
from sqlmodel import Session, select

from common.enums import LeadStatus, LeadTimeframe
from common.followup import local_date
from common.leads import ACTIVE_STATUSES, BASELINE_CONVERSION, NextAction, conversion, next_action
from portal.models import Lead
from portal.services import crm_corrections
from portal.services.crm_lists import like


@dataclass(frozen=True)
class LeadFilters:
    q: str = ""
    timeframe: str = ""
    status: str = ""
    salesperson: str = ""
    source: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> LeadFilters:
        def pick(name: str, allowed) -> str:
            value = args.get(name, "")
            return value if value in allowed else ""

        return cls(args.get("q", "").strip()[:100],
                   pick("timeframe", set(LeadTimeframe)), pick("status", set(LeadStatus)),
                   args.get("salesperson", "").strip()[:100], args.get("source", "")[:20])


def leads_query(filters: LeadFilters):
    """Leads matching *filters*, newest first."""
    return select(Lead).where(*_conditions(filters)).order_by(Lead.created_at.desc(),
                                                              Lead.record_id)


def _conditions(filters: LeadFilters) -> list:
    """The WHERE clauses of *filters*."""
    conditions = []
    if filters.q:
        pattern = like(filters.q)
        conditions.append(or_(Lead.name.like(pattern, escape="\\"),
                              Lead.phone.like(pattern, escape="\\"),
                              Lead.interested_model.like(pattern, escape="\\")))
    conditions += [column == value for column, value in (
        (Lead.purchase_timeframe, filters.timeframe), (Lead.status, filters.status),
        (Lead.salesperson, filters.salesperson), (Lead.source, filters.source)) if value]
    return conditions


@dataclass(frozen=True)
class LeadTodo:
    lead: Lead
    salesperson: str  # effective, after a manager's assignment
    action: NextAction


def todo(*, session: Session, today: dt.date, salesperson: str = "") -> list[LeadTodo]:
    """Every active lead's next action, most urgent first; optionally for one salesperson."""
    leads = list(session.exec(select(Lead).where(Lead.status.in_(list(ACTIVE_STATUSES)))))
    values = crm_corrections.effective_values(session=session, kind="lead", records=leads)
    items = []
    for lead in leads:
        eff = values[lead.record_id]
        action = next_action(timeframe=eff["purchase_timeframe"], status=eff["status"],
                             salesperson=eff["salesperson"], created=local_date(lead.created_at),
                             today=today)
        if action and (not salesperson or eff["salesperson"] == salesperson):
            items.append(LeadTodo(lead, eff["salesperson"], action))
    return sorted(items, key=lambda t: (t.action.due, t.lead.name))


def next_actions(leads: list[Lead], effective: dict, today: dt.date
                 ) -> dict[object, NextAction | None]:
    """Each lead's next action by record_id, from its effective values (overlay included)."""
    actions = {}
    for lead in leads:
        values = effective[lead.record_id]
        actions[lead.record_id] = next_action(
            timeframe=values["purchase_timeframe"], status=values["status"],
            salesperson=values["salesperson"], created=local_date(lead.created_at), today=today)
    return actions


@dataclass(frozen=True)
class BucketConversion:
    timeframe: LeadTimeframe
    leads: int
    won: int
    rate: float | None
    baseline: float | None


def conversion_by_bucket(*, session: Session, filters: LeadFilters) -> list[BucketConversion]:
    """Won ÷ leads per timeframe bucket for the filtered leads, beside the seeds' baselines."""
    return conversion_table(overview(session=session, filters=filters).counts)


@dataclass(frozen=True)
class LeadOverview:
    counts: dict[str, tuple[int, int]]  # leads and won leads per stored timeframe
    salespeople: list[str]  # names on the leads in scope, for the filter


def overview(*, session: Session, filters: LeadFilters) -> LeadOverview:
    """The conversion counts and the salespeople's names, in one pass over the leads in scope.

    The counts cover the filtered leads except their timeframe and status (the conversion table
    shows every bucket), the names every lead: the query counts, per timeframe and salesperson,
    the leads the search and source match, and the salesperson filter picks its rows here."""
    hit = and_(true(), *_conditions(LeadFilters(q=filters.q, source=filters.source)))
    rows = session.execute(
        select(Lead.purchase_timeframe, Lead.salesperson, func.sum(case((hit, 1), else_=0)),
               func.sum(case((hit & (Lead.status == LeadStatus.won.value), 1), else_=0)))
        .group_by(Lead.purchase_timeframe, Lead.salesperson)).all()
    counts: dict[str, tuple[int, int]] = {}
    for timeframe, salesperson, matched, won in rows:
        if matched and (not filters.salesperson or salesperson == filters.salesperson):
            leads, wins = counts.get(timeframe, (0, 0))
            counts[timeframe] = (leads + matched, wins + won)
    return LeadOverview(counts, sorted({name for _, name, _, _ in rows if name}))


def listed_total(filters: LeadFilters, counts: dict[str, tuple[int, int]]) -> int | None:
    """How many leads the list holds, when *counts* (see overview) already tell: without a
    timeframe or status filter the buckets count exactly the listed leads."""
    if filters.timeframe or filters.status:
        return None
    return sum(total for total, _won in counts.values())


def conversion_table(counts: dict[str, tuple[int, int]]) -> list[BucketConversion]:
    result = []
    for bucket in LeadTimeframe:
        total, won = counts.get(bucket.value, (0, 0))
        result.append(BucketConversion(bucket, total, won, conversion(won, total),
                                       BASELINE_CONVERSION[bucket]))
    return result


def salespeople(*, session: Session) -> list[str]:
    """Names of salespeople on leads in scope, for the filter."""
    names = session.exec(select(Lead.salesperson).where(Lead.salesperson != "").distinct())
    return sorted(names)
