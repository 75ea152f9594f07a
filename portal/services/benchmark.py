"""The benchmark: percentiles, the benchmark dealers (top decile, 标杆), gaps and records to fix.

The ranking functions are pure. :func:`month_context` reads every dealer's index of a
month through a session that sees all dealers: ranks, the benchmark group and its
rates are national figures. Pages show only the dealers in the user's scope and
the benchmark group as a whole; records are read through the user's own session.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Row
from sqlmodel import Session, func, select

from common.enums import LeadStatus
from common.i18n import N_
from common.labels import LABELS
from portal.models import (
    AgentSyncDay,
    Complaint,
    Contact,
    DealerMonthMetric,
    Lead,
    RepairOrder,
    Sale,
    Survey,
)
from portal.services import metrics as m

BENCHMARK_SHARE = 0.10  # the top decile is the benchmark group


def percentile_ranks(values: Mapping[Hashable, float | None]) -> dict[Hashable, float | None]:
    """Percentile of each value among the others: below count + half the ties, over n − 1.

    The best scores 100, the worst 0, equal values share a rank, a lone value scores 100,
    and keys without a value (no data) get None.
    """
    known = sorted(v for v in values.values() if v is not None)
    others = len(known) - 1
    ranks: dict[Hashable, float | None] = {}
    for key, value in values.items():
        if value is None:
            ranks[key] = None
            continue
        below = _count_below(known, value)
        ties = _count_below(known, value, inclusive=True) - below - 1
        ranks[key] = 100.0 if others == 0 else round(100 * (below + ties / 2) / others, 1)
    return ranks


def _count_below(ordered: list[float], value: float, inclusive: bool = False) -> int:
    return (bisect.bisect_right if inclusive else bisect.bisect_left)(ordered, value)


def benchmark_group(values: Mapping[Hashable, float | None],
                    share: float = BENCHMARK_SHARE) -> set[Hashable]:
    """The top *share* of keys by value (at least one), ties at the cut-off included."""
    known = sorted((v for v in values.values() if v is not None), reverse=True)
    if not known:
        return set()
    cutoff = known[max(1, math.ceil(len(known) * share)) - 1]
    return {k for k, v in values.items() if v is not None and v >= cutoff}


def histogram(values: Iterable[float | None], bins: int = 10) -> list[int]:
    """Counts of index values 0–100 in *bins* equal bins (100 falls in the last)."""
    counts = [0] * bins
    for value in values:
        if value is not None:
            counts[min(bins - 1, int(value * bins // 100))] += 1
    return counts


@dataclass(frozen=True)
class MetricGap:
    key: str
    value: float | None  # the dealer's share 0..1
    benchmark: float | None  # the benchmark group's share 0..1
    gap: float | None  # benchmark − dealer, in percentage points; > 0: behind


def gaps(dealer: Mapping[str, float], group: Mapping[str, float]) -> list[MetricGap]:
    """Per metric, the dealer's value, the benchmark group's and the distance between them."""
    out = []
    for metric in m.METRICS:
        value, bench = metric.value(dealer), metric.value(group)
        gap = None if value is None or bench is None else round(100 * (bench - value), 1)
        out.append(MetricGap(metric.key, value, bench, gap))
    return out


# ---------------------------------------------------------------- one month, all dealers


@dataclass
class MonthContext:
    """National figures of one month: every dealer's index, percentiles and the group."""

    month: dt.date
    index: dict[int, float | None] = field(default_factory=dict)
    region_of: dict[int, int] = field(default_factory=dict)
    national: dict[int, float | None] = field(default_factory=dict)
    regional: dict[int, float | None] = field(default_factory=dict)
    group: set[int] = field(default_factory=set)
    group_totals: dict[str, float] = field(default_factory=dict)
    group_median_h: float | None = None


# National figures depend only on the aggregates, so each process keeps them until a refresh
# (metrics.Memo): scorecard and benchmark pages went from ~60 ms to a few ms of CPU each with
# 1,000 dealers (the benchmark suite, tests/benchmark).
_NATIONAL = m.Memo()
_SCOPED = m.Memo(128)  # figures of the dealers a session sees: keyed by its scope too


def month_context(all_dealers: Session, month: dt.date) -> MonthContext:
    """Rank every dealer of *month*; *all_dealers* must be a session that sees all dealers.

    Kept per process until the next refresh; callers must not change the result."""
    key = ("context", m.scope_key(all_dealers), month)  # the scope: a wrong session cannot leak
    return _NATIONAL.get(all_dealers, key, lambda: _month_context(all_dealers, month))


def _month_context(all_dealers: Session, month: dt.date) -> MonthContext:
    rows = list(all_dealers.exec(select(DealerMonthMetric).where(DealerMonthMetric.month == month)))
    ctx = MonthContext(month, {r.dealer_id: r.usage_index for r in rows},
                       {r.dealer_id: r.region_id for r in rows})
    ctx.national = percentile_ranks(ctx.index)
    for region_id in set(ctx.region_of.values()):
        members = {d: v for d, v in ctx.index.items() if ctx.region_of[d] == region_id}
        ctx.regional.update(percentile_ranks(members))
    ctx.group = benchmark_group(ctx.index)
    grouped = [r for r in rows if r.dealer_id in ctx.group]
    ctx.group_totals = m.add_totals(grouped)
    ctx.group_median_h = m.median([r.lead_median_h for r in grouped if r.lead_median_h is not None])
    return ctx


def trend(session: Session, months: list[dt.date]) -> dict[dt.date, float | None]:
    """Mean index per month over the dealers the session sees."""
    return dict(_SCOPED.get(session, ("trend", m.scope_key(session), tuple(months)),
                            lambda: _trend(session, months)))


def _trend(session: Session, months: list[dt.date]) -> dict[dt.date, float | None]:
    stmt = (select(DealerMonthMetric.month, func.avg(DealerMonthMetric.usage_index))
            .where(DealerMonthMetric.month.in_(months)).group_by(DealerMonthMetric.month))
    found = {month: avg for month, avg in session.exec(stmt)}
    return {month: None if found.get(month) is None else round(float(found[month]), 1)
            for month in months}


def group_trend(all_dealers: Session, months: list[dt.date]) -> dict[dt.date, float | None]:
    """Mean index of each month's benchmark group (national); kept like month_context."""
    return dict(_NATIONAL.get(all_dealers, ("trend", m.scope_key(all_dealers), tuple(months)),
                              lambda: _group_trend(all_dealers, months)))


def _group_trend(all_dealers: Session, months: list[dt.date]) -> dict[dt.date, float | None]:
    stmt = (select(DealerMonthMetric.month, DealerMonthMetric.dealer_id,
                   DealerMonthMetric.usage_index).where(DealerMonthMetric.month.in_(months)))
    by_month: dict[dt.date, dict[int, float | None]] = {month: {} for month in months}
    for month, dealer_id, index in all_dealers.exec(stmt):
        by_month[month][dealer_id] = index
    out = {}
    for month, values in by_month.items():
        group = [values[d] for d in benchmark_group(values)]
        out[month] = round(sum(group) / len(group), 1) if group else None
    return out


# ---------------------------------------------------------------- the records to fix


@dataclass(frozen=True)
class FixItem:
    """A record (or day) that pulls a metric down, and why, as msgids with parameters."""

    kind: str  # msgid of the record kind
    ref: str
    when: dt.date | dt.datetime
    who: str
    why: tuple[tuple[str, dict], ...]


def fix_items(session: Session, key: str, dealer_id: int, month: dt.date,
              now: dt.datetime) -> list[FixItem]:
    """The records of *dealer_id* that keep metric *key* of *month* from 100 %."""
    period = m.Period(month, now)
    return _FIXERS[key](session, dealer_id, period)


def _between(column, period: m.Period, dates: bool = False) -> list:
    start, end = m.midnight(period.month), m.midnight(m.next_month(period.month))
    return [column >= (start.date() if dates else start), column < (end.date() if dates else end)]


def _contacts(session: Session, dealer_id: int, refs: Iterable[str]):
    refs = sorted({str(r) for r in refs})
    stmt = select(Contact.customer_ref, Contact.at).where(
        Contact.dealer_id == dealer_id, Contact.customer_ref.in_(refs))
    return m.contact_index(session.exec(stmt)) if refs else {}


def _sale_refs(sale: Sale) -> tuple[str, str]:
    return sale.vin, str(sale.record_id)


def _fix_contact30(session, dealer_id, period) -> list[FixItem]:
    sales = list(session.exec(select(Sale).where(
        Sale.dealer_id == dealer_id, *_between(Sale.sale_date, period, dates=True))
        .order_by(Sale.sale_date, Sale.deal_number)))
    index = _contacts(session, dealer_id, [r for s in sales for r in _sale_refs(s)])
    items = []
    for sale in sales:
        state = m.sale_contact_state(_sale_refs(sale), sale.sale_date, index, period.now)
        if state != "ok":
            deadline = sale.sale_date + dt.timedelta(days=30)
            why = (N_("Overdue since %(date)s") if state == "missed" else N_("Due by %(date)s"))
            items.append(FixItem(N_("Sale"), sale.deal_number, sale.sale_date,
                                 f"{sale.customer_name} · {sale.salesperson}",
                                 ((why, {"date": deadline.isoformat()}),)))
    return items


def _fix_response(session, dealer_id, period) -> list[FixItem]:
    leads = list(session.exec(select(Lead).where(
        Lead.dealer_id == dealer_id, *_between(Lead.created_at, period))
        .order_by(Lead.created_at)))
    index = _contacts(session, dealer_id, [str(lead.record_id) for lead in leads])
    items = []
    for lead in leads:
        hours = m.first_response_hours(lead.created_at, str(lead.record_id), index)
        if m.lead_response_state(hours, lead.created_at, period.now) != "ok":
            why = ((N_("Not contacted yet"), {}) if hours is None else
                   (N_("First contact after %(hours)s hours"), {"hours": f"{hours:.0f}"}))
            items.append(FixItem(N_("Lead"), lead.name, m.utc(lead.created_at),
                                 lead.salesperson, (why,)))
    return items


def _fix_lifecycle(session, dealer_id, period) -> list[FixItem]:
    oldest, covered_after = m.lifecycle_window(period)
    sales = list(session.exec(select(Sale).where(
        Sale.dealer_id == dealer_id, Sale.sale_date > oldest,
        Sale.sale_date < period.end.date() + dt.timedelta(days=1)).order_by(Sale.sale_date)))
    sales = [s for s in sales if m.midnight(s.sale_date) < period.end]
    index = _contacts(session, dealer_id, [r for s in sales for r in _sale_refs(s)])
    end = period.end + dt.timedelta(microseconds=1)
    why = ((N_("No contact since %(date)s"), {"date": covered_after.date().isoformat()}),)
    return [FixItem(N_("Sale"), s.deal_number, s.sale_date, f"{s.customer_name} · {s.vin}", why)
            for s in sales if not m.contacted_between(index, _sale_refs(s), covered_after, end)]


def _fix_conversion(session, dealer_id, period) -> list[FixItem]:
    open_states = [LeadStatus.open, LeadStatus.contacted, LeadStatus.appointment]
    leads = session.exec(select(Lead).where(
        Lead.dealer_id == dealer_id, Lead.status.in_(open_states),
        *_between(Lead.created_at, period)).order_by(Lead.created_at))
    return [FixItem(LABELS.get(lead.purchase_timeframe, N_("Lead")), lead.name,
                    m.utc(lead.created_at), lead.salesperson, ((N_("Still open"), {}),))
            for lead in leads]


def _fix_completeness(session, dealer_id, period) -> list[FixItem]:
    items = []
    for sale in session.exec(select(Sale).where(
            Sale.dealer_id == dealer_id, *_between(Sale.sale_date, period, dates=True))
            .order_by(Sale.sale_date, Sale.deal_number)):
        problems = m.sale_problems(sale.vin, sale.customer_phone, sale.customer_postcode)
        if problems:
            items.append(FixItem(N_("Sale"), sale.deal_number, sale.sale_date, sale.salesperson,
                                 tuple((p.message, p.params) for p in problems)))
    for ro in session.exec(select(RepairOrder).where(
            RepairOrder.dealer_id == dealer_id, *_between(RepairOrder.opened_at, period))
            .order_by(RepairOrder.opened_at, RepairOrder.ro_number)):
        problems = m.repair_problems(ro.vin, ro.parts_count, ro.technician)
        if problems:
            items.append(FixItem(N_("Repair order"), ro.ro_number, m.utc(ro.opened_at),
                                 ro.technician, tuple((p.message, p.params) for p in problems)))
    return items


def _fix_complaints(session, dealer_id, period) -> list[FixItem]:
    items = []
    for c in session.exec(select(Complaint).where(
            Complaint.dealer_id == dealer_id, *_between(Complaint.received_at, period))
            .order_by(Complaint.received_at)):
        answered = c.answered_at or c.resolved_at
        if m.complaint_state(c.received_at, answered, period.now) != "ok":
            why = ((N_("Not answered yet"), {}) if answered is None else
                   (N_("Answered on %(date)s"), {"date": m.utc(answered).date().isoformat()}))
            items.append(FixItem(N_("Complaint"), c.category, m.utc(c.received_at),
                                 c.customer_ref, (why,)))
    return items


def _fix_loyalty(session, dealer_id, period) -> list[FixItem]:
    surveys = session.exec(select(Survey).where(
        Survey.dealer_id == dealer_id, Survey.score < 5, *_between(Survey.at, period))
        .order_by(Survey.at))
    return [FixItem(N_("Survey"), s.customer_ref, m.utc(s.at), s.about,
                    ((N_("Scored %(score)d of 5"), {"score": s.score}),)) for s in surveys]


def _fix_sync(session, dealer_id, period) -> list[FixItem]:
    synced = set(session.exec(select(AgentSyncDay.day).where(
        AgentSyncDay.dealer_id == dealer_id, *_between(AgentSyncDay.day, period, dates=True))))
    days = [period.month + dt.timedelta(days=i) for i in range(m.month_days(period))]
    return [FixItem(N_("Day"), day.isoformat(), day, "", ((N_("No successful sync"), {}),))
            for day in days if day not in synced]


_FIXERS = {
    "contact30": _fix_contact30, "response": _fix_response, "lifecycle": _fix_lifecycle,
    "conversion": _fix_conversion, "completeness": _fix_completeness,
    "complaints": _fix_complaints, "loyalty": _fix_loyalty, "sync": _fix_sync,
}


# ---------------------------------------------------------------- page figures


@dataclass(frozen=True)
class Scorecard:
    """Everything the scorecard of one dealer-month shows."""

    row: Row | None  # the dealer's DealerMonthMetric columns of the month
    ctx: MonthContext
    gaps: list[MetricGap]
    trend: dict[dt.date, float | None]
    group_trend: dict[dt.date, float | None]
    fix_counts: dict[str, int]  # the records that missed, per metric

    @property
    def in_group(self) -> bool:
        return self.row is not None and self.row.dealer_id in self.ctx.group


_CARDS = m.Memo(1024)  # a scorecard per dealer and scope that asked: a few kB each
_METRIC_COLUMNS = tuple(getattr(DealerMonthMetric, c.name)
                        for c in DealerMonthMetric.__table__.columns)


def scorecard(session: Session, all_dealers: Session, *, dealer_id: int, month: dt.date,
              months: list[dt.date]) -> Scorecard:
    """The dealer's metrics of *month*, its ranks, its gaps to the benchmark and its trend.

    Kept per process and scope until the next refresh; callers must not change the result."""
    key = ("scorecard", m.scope_key(session), dealer_id, month, tuple(months))
    return _CARDS.get(session, key,
                      lambda: _scorecard(session, all_dealers, dealer_id, month, months))


def _scorecard(session: Session, all_dealers: Session, dealer_id: int, month: dt.date,
               months: list[dt.date]) -> Scorecard:
    ctx = month_context(all_dealers, month)
    # rows, not ORM objects: the card outlives the session and is shared between requests
    rows = {r.month: r for r in session.exec(select(*_METRIC_COLUMNS).where(
        DealerMonthMetric.dealer_id == dealer_id, DealerMonthMetric.month.in_(months)))}
    row = rows.get(month)
    totals = m.add_totals([row] if row else [])
    counts = {k: int(md.den(totals) - md.num(totals)) for k, md in m.METRIC_BY_KEY.items()
              if k != "conversion"}
    return Scorecard(row, ctx, gaps(totals, ctx.group_totals),
                     {mo: rows[mo].usage_index if mo in rows else None for mo in months},
                     group_trend(all_dealers, months), counts)


@dataclass(frozen=True)
class RankRow:
    rank: int
    dealer_id: int
    region_id: int
    index: float | None
    regional: float | None
    national: float | None
    benchmark: bool


def ranking(session: Session, ctx: MonthContext, region_id: int | None = None) -> list[RankRow]:
    """The dealers the session sees in *ctx*'s month, best index first (no data last).

    *ctx* is :func:`month_context` of its month; the ranking is kept until the next refresh."""
    key = ("ranking", m.scope_key(session), ctx.month, region_id)
    return list(_SCOPED.get(session, key, lambda: tuple(_ranking(session, ctx, region_id))))


def _ranking(session: Session, ctx: MonthContext, region_id: int | None) -> list[RankRow]:
    stmt = select(DealerMonthMetric.dealer_id).where(DealerMonthMetric.month == ctx.month)
    if region_id is not None:
        stmt = stmt.where(DealerMonthMetric.region_id == region_id)
    visible = sorted(session.exec(stmt),
                     key=lambda d: (ctx.index.get(d) is None, -(ctx.index.get(d) or 0), d))
    return [RankRow(n, d, ctx.region_of[d], ctx.index.get(d), ctx.regional.get(d),
                    ctx.national.get(d), d in ctx.group) for n, d in enumerate(visible, 1)]
