"""The CRM-usage metrics of DESIGN §8: definitions (shown in the UI) and their computation.

Every metric is a numerator over a denominator per dealer and month, stored in
:class:`~portal.models.DealerMonthMetric`, so regions and the nation add them up
and divide once. A month is a calendar month in UTC. Records whose deadline has
not passed yet (a sale of last week without its contact, a lead of this morning)
are *pending*: they count once they are done or once the deadline has passed.

Weights of the composite CRM-usage index (0–100), documented in the README too:

====================================  ======
post-sale contact within 30 days        20
lead answered within 24 h               15
lifecycle coverage (5 years)            15
lead conversion vs the seeds' baseline  10
data completeness                       10
complaints answered within 24 h         10
loyalty (surveys scoring 5)             10
days synced in the month                10
====================================  ======

The index is the weighted mean of the metrics that have data (denominator > 0),
times 100; a dealer-month whose metrics with data weigh less than 50 has no index.
"""

from __future__ import annotations

import bisect
import datetime as dt
import statistics
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import insert, update
from sqlmodel import Session, delete, func, select

from common.enums import LeadTimeframe
from common.followup import DEFAULT_RULES
from common.i18n import N_
from common.validators import FieldError, validate_phone, validate_postcode, validate_vin
from portal.models import (
    Agent,
    AgentSyncDay,
    Complaint,
    Contact,
    Dealer,
    DealerMonthMetric,
    Lead,
    MetricsGeneration,
    RepairOrder,
    Sale,
    Survey,
    utcnow,
)
from portal.tenancy import get_scope

RESPONSE_HOURS = 24
LIFECYCLE_DAYS = round(365.25 * DEFAULT_RULES.lifecycle_years)
COVERAGE_DAYS = 183  # "a contact in the last 6 months"
MIN_INDEX_WEIGHT = 50
# seeds' baseline conversion: 10 % of 3-month leads and 4 % of 1-year leads buy
BASELINES = {LeadTimeframe.within_3_months: 0.10, LeadTimeframe.within_1_year: 0.04}
BUCKET_COLUMNS = {
    LeadTimeframe.immediate: ("leads_immediate", "won_immediate"),
    LeadTimeframe.within_3_months: ("leads_3m", "won_3m"),
    LeadTimeframe.within_6_months: ("leads_6m", "won_6m"),
    LeadTimeframe.within_1_year: ("leads_1y", "won_1y"),
}
COUNT_COLUMNS = (
    "sales_due", "sales_contacted", "leads_due", "leads_24h", "leads_responded",
    *[c for pair in BUCKET_COLUMNS.values() for c in pair],
    "lifecycle_customers", "lifecycle_covered", "records_checked", "records_complete",
    "complaints_due", "complaints_24h", "surveys", "surveys_loyal", "sync_days", "month_days",
)

Totals = Mapping[str, float]


@dataclass(frozen=True)
class MetricDef:
    """One metric: what it is called, how it is defined, and its share of the index."""

    key: str
    label: str  # msgid
    definition: str  # msgid
    weight: int
    num: Callable[[Totals], float]
    den: Callable[[Totals], float]
    fix: str  # msgid: what the drill-down lists

    def value(self, totals: Totals) -> float | None:
        """The metric as a share 0..1, or None when there is nothing to measure."""
        den = self.den(totals)
        return None if not den else min(1.0, self.num(totals) / den)


def _col(name: str) -> Callable[[Totals], float]:
    return lambda t: t.get(name, 0) or 0


def _conversion_target(t: Totals) -> float:
    """Twice the wins the seeds' baselines expect from the 3-month and 1-year leads."""
    return 2 * (0.10 * (t.get("leads_3m") or 0) + 0.04 * (t.get("leads_1y") or 0))


METRICS: tuple[MetricDef, ...] = (
    MetricDef("contact30", N_("Post-sale contact compliance"),
              N_("Share of sales with a logged contact (customer reference = VIN or sale) within "
                 "30 days of the sale. Sales still inside their 30 days count once contacted."),
              20, _col("sales_contacted"), _col("sales_due"),
              N_("Sales without a contact within 30 days")),
    MetricDef("response", N_("Lead response"),
              N_("Share of leads whose first contact came within 24 hours of their creation; "
                 "the median hours to the first contact is shown beside it."),
              15, _col("leads_24h"), _col("leads_due"),
              N_("Leads not contacted within 24 hours")),
    MetricDef("lifecycle", N_("Lifecycle coverage"),
              N_("Share of customers sold within the last 5 years who had a contact in the "
                 "last 6 months (as of the end of the month)."),
              15, _col("lifecycle_covered"), _col("lifecycle_customers"),
              N_("Customers without a contact in the last 6 months")),
    MetricDef("conversion", N_("Lead conversion"),
              N_("Won leads ÷ leads per purchase timeframe, beside the seeds' baselines (10 %% of "
                 "3-month leads, 4 %% of 1-year leads). For the index: wins over twice the "
                 "baseline's expected wins, capped at 100 %%."),
              10, lambda t: (t.get("won_3m") or 0) + (t.get("won_1y") or 0), _conversion_target,
              N_("Leads still open")),
    MetricDef("completeness", N_("Data completeness"),
              N_("Share of sales and repair orders with every key field valid: VIN with its "
                 "check digit, phone and postcode for sales; parts and technician for repairs."),
              10, _col("records_complete"), _col("records_checked"),
              N_("Records with a missing or invalid field")),
    MetricDef("complaints", N_("Complaint timeliness"),
              N_("Share of complaints answered within 24 hours of being received."),
              10, _col("complaints_24h"), _col("complaints_due"),
              N_("Complaints not answered within 24 hours")),
    MetricDef("loyalty", N_("Loyalty"),
              N_("Share of satisfaction surveys scoring 5 (only a 5 counts as a loyal customer)."),
              10, _col("surveys_loyal"), _col("surveys"),
              N_("Surveys scoring below 5")),
    MetricDef("sync", N_("Sync freshness"),
              N_("Days of the month on which the dealer's agent synced, ÷ days of the month so "
                 "far; the hours since the last successful sync are shown beside it."),
              10, _col("sync_days"), _col("month_days"),
              N_("Days without a sync")),
)
METRIC_BY_KEY = {m.key: m for m in METRICS}
assert sum(m.weight for m in METRICS) == 100


def usage_index(totals: Totals) -> float | None:
    """The composite CRM-usage index 0–100 of *totals*, or None with too little data."""
    parts = [(m.weight, v) for m in METRICS if (v := m.value(totals)) is not None]
    weight = sum(w for w, _ in parts)
    if weight < MIN_INDEX_WEIGHT:
        return None
    return round(100 * sum(w * v for w, v in parts) / weight, 1)


def add_totals(rows: Iterable[object]) -> dict[str, float]:
    """Sum the count columns of metric rows (or mappings) so rates can be taken once."""
    totals: dict[str, float] = dict.fromkeys(COUNT_COLUMNS, 0)
    for row in rows:
        for name in COUNT_COLUMNS:
            totals[name] += (row.get(name) if isinstance(row, Mapping) else getattr(row, name)) or 0
    return totals


# ---------------------------------------------------------------- months and time


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def last_months(today: dt.date, count: int = 13) -> list[dt.date]:
    """The *count* months ending with the month of *today*, oldest first."""
    months = [month_start(today)]
    for _ in range(count - 1):
        months.append(month_start(months[-1] - dt.timedelta(days=1)))
    return months[::-1]


def utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC; SQLite hands back naive timestamps, which are stored as UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def ref_key(value: object) -> str:
    """Normalise a customer reference (VIN or record UUID) for matching."""
    return str(value).strip().upper()


@dataclass(frozen=True)
class Period:
    """One month of one computation: its bounds and the moment it is judged at."""

    month: dt.date
    now: dt.datetime

    @property
    def start(self) -> dt.datetime:
        return midnight(self.month)

    @property
    def end(self) -> dt.datetime:
        """The end of the month, or now for the current month."""
        return min(midnight(next_month(self.month)), self.now)

    def holds(self, moment: dt.datetime) -> bool:
        return self.start <= moment < midnight(next_month(self.month))


# ---------------------------------------------------------------- per-metric rules


def contact_index(contacts: Iterable[tuple[str, dt.datetime]]) -> dict[str, list[dt.datetime]]:
    """Contacts by normalised customer reference, each list sorted by time."""
    index: dict[str, list[dt.datetime]] = defaultdict(list)
    for ref, at in contacts:
        index[ref_key(ref)].append(utc(at))
    for times in index.values():
        times.sort()
    return index


def contacted_between(index: Mapping[str, list[dt.datetime]], refs: Iterable[str],
                      start: dt.datetime, end: dt.datetime) -> bool:
    """Whether any of *refs* has a contact in [start, end)."""
    for ref in refs:
        times = index.get(ref_key(ref), ())
        i = bisect.bisect_left(times, start)
        if i < len(times) and times[i] < end:
            return True
    return False


def sale_contact_state(sale_ref: tuple[str, str], sale_date: dt.date,
                       index: Mapping[str, list[dt.datetime]], now: dt.datetime) -> str:
    """'ok', 'missed' or 'pending' for the 30-day contact of a sale."""
    deadline = midnight(sale_date + dt.timedelta(days=DEFAULT_RULES.first_contact_days + 1))
    if contacted_between(index, sale_ref, midnight(sale_date), deadline):
        return "ok"
    return "missed" if deadline <= now else "pending"


def first_response_hours(created_at: dt.datetime, ref: str,
                         index: Mapping[str, list[dt.datetime]]) -> float | None:
    """Hours from a lead's creation to its first contact (0 if logged earlier), or None."""
    times = index.get(ref_key(ref))
    if not times:
        return None
    return max(0.0, (times[0] - utc(created_at)).total_seconds() / 3600)


def lead_response_state(hours: float | None, created_at: dt.datetime, now: dt.datetime) -> str:
    if hours is not None and hours <= RESPONSE_HOURS:
        return "ok"
    overdue = utc(created_at) + dt.timedelta(hours=RESPONSE_HOURS) <= now
    return "missed" if hours is not None or overdue else "pending"


def complaint_state(received_at: dt.datetime, answered_at: dt.datetime | None,
                    now: dt.datetime) -> str:
    """'ok' when answered within 24 h, 'missed' when later or overdue, else 'pending'."""
    deadline = utc(received_at) + dt.timedelta(hours=RESPONSE_HOURS)
    if answered_at is not None:
        return "ok" if utc(answered_at) <= deadline else "missed"
    return "missed" if deadline <= now else "pending"


def sale_problems(vin: str, phone: str, postcode: str) -> list[FieldError]:
    """The validation errors of a sale's key fields."""
    return _problems((validate_vin, vin), (validate_phone, phone), (validate_postcode, postcode))


def repair_problems(vin: str, parts_count: int, technician: str) -> list[FieldError]:
    """The validation errors of a repair order's key fields."""
    problems = _problems((validate_vin, vin))
    if parts_count <= 0:
        problems.append(FieldError("parts", N_("No parts are recorded on this repair order.")))
    if not (technician or "").strip():
        problems.append(FieldError("technician", N_("No technician is recorded.")))
    return problems


def _problems(*checks: tuple[Callable[[str], str], str]) -> list[FieldError]:
    problems = []
    for check, value in checks:
        try:
            check(value or "")
        except FieldError as error:
            problems.append(error)
    return problems


def lifecycle_window(period: Period) -> tuple[dt.date, dt.datetime]:
    """Customers sold after the date returned count; a contact after the moment covers them."""
    end = period.end
    return (end - dt.timedelta(days=LIFECYCLE_DAYS)).date(), end - dt.timedelta(days=COVERAGE_DAYS)


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def month_days(period: Period) -> int:
    """Days of the month elapsed at *period.now*, today included (all of a past month)."""
    last = min(next_month(period.month) - dt.timedelta(days=1), period.now.date())
    return max(0, (last - period.month).days + 1)


# ---------------------------------------------------------------- loading a dealer chunk


@dataclass
class DealerData:
    """The narrow columns of one dealer's records a computation needs, by month where useful."""

    sales: list[tuple]  # (record_id, vin, sale_date, phone, postcode), the last 5 years
    contacts: dict[str, list[dt.datetime]]
    months: dict[str, dict[dt.date, list]]  # kind -> month -> rows of that month

    def in_month(self, kind: str, month: dt.date) -> list:
        return self.months[kind].get(month, [])


def _by_month(rows: Iterable[tuple], when: int = 0) -> dict[dt.date, list]:
    """Rows bucketed by the (UTC) month of their field *when*; timestamps made aware UTC."""
    out: dict[dt.date, list] = defaultdict(list)
    for row in rows:
        moment = row[when]
        if isinstance(moment, dt.datetime):
            moment = utc(moment)
            row = (*row[:when], moment, *row[when + 1:])
            moment = moment.date()
        out[moment.replace(day=1)].append(row)
    return out


def _grouped(session: Session, stmt, width: int) -> dict[int, list[tuple]]:
    out: dict[int, list[tuple]] = defaultdict(list)
    for row in session.exec(stmt):
        out[row[0]].append(tuple(row[1:width + 1]))
    return out


def load_data(session: Session, dealer_ids: list[int], months: list[dt.date],
              now: dt.datetime) -> dict[int, DealerData]:
    """Fetch, with one query per record kind, what the metrics of *months* need."""
    first, after = midnight(months[0]), midnight(next_month(months[-1]))
    in_ids = lambda col: col.in_(dealer_ids)  # noqa: E731
    oldest_sale = (first - dt.timedelta(days=LIFECYCLE_DAYS + 1)).date()
    queries = {
        "sales": (select(Sale.dealer_id, Sale.record_id, Sale.vin, Sale.sale_date,
                         Sale.customer_phone, Sale.customer_postcode)
                  .where(in_ids(Sale.dealer_id), Sale.sale_date >= oldest_sale,
                         Sale.sale_date < after.date()), 5),
        "contacts": (select(Contact.dealer_id, Contact.customer_ref, Contact.at)
                     .where(in_ids(Contact.dealer_id),
                            Contact.at >= first - dt.timedelta(days=COVERAGE_DAYS + 1)), 2),
        "repairs": (select(RepairOrder.dealer_id, RepairOrder.opened_at, RepairOrder.vin,
                           RepairOrder.parts_count, RepairOrder.technician)
                    .where(in_ids(RepairOrder.dealer_id), RepairOrder.opened_at >= first,
                           RepairOrder.opened_at < after), 4),
        "leads": (select(Lead.dealer_id, Lead.record_id, Lead.created_at,
                         Lead.purchase_timeframe, Lead.status)
                  .where(in_ids(Lead.dealer_id), Lead.created_at >= first,
                         Lead.created_at < after), 4),
        "complaints": (select(Complaint.dealer_id, Complaint.received_at,
                              Complaint.answered_at, Complaint.resolved_at)
                       .where(in_ids(Complaint.dealer_id), Complaint.received_at >= first,
                              Complaint.received_at < after), 3),
        "surveys": (select(Survey.dealer_id, Survey.at, Survey.score)
                    .where(in_ids(Survey.dealer_id), Survey.at >= first, Survey.at < after), 2),
        "sync_days": (select(AgentSyncDay.dealer_id, AgentSyncDay.day).distinct()
                      .where(in_ids(AgentSyncDay.dealer_id), AgentSyncDay.day >= first.date(),
                             AgentSyncDay.day < after.date()), 1),
    }
    loaded = {name: _grouped(session, stmt, width) for name, (stmt, width) in queries.items()}
    return {dealer_id: _dealer_data({k: v.get(dealer_id, []) for k, v in loaded.items()})
            for dealer_id in dealer_ids}


def _dealer_data(rows: dict[str, list[tuple]]) -> DealerData:
    complaints = [(received, answered or resolved)
                  for received, answered, resolved in rows["complaints"]]
    return DealerData(
        sales=rows["sales"], contacts=contact_index(rows["contacts"]),
        months={"sales": _by_month(rows["sales"], 2), "repairs": _by_month(rows["repairs"]),
                "leads": _by_month(rows["leads"], 1), "complaints": _by_month(complaints),
                "surveys": _by_month(rows["surveys"]), "sync_days": _by_month(rows["sync_days"])})


# ---------------------------------------------------------------- computing one dealer-month


def _sales_counts(data: DealerData, period: Period, counts: dict) -> None:
    for record_id, vin, sale_date, phone, postcode in data.in_month("sales", period.month):
        state = sale_contact_state((vin, str(record_id)), sale_date, data.contacts, period.now)
        counts["sales_due"] += state != "pending"
        counts["sales_contacted"] += state == "ok"
        counts["records_checked"] += 1
        counts["records_complete"] += not sale_problems(vin, phone, postcode)
    oldest, covered_after = lifecycle_window(period)
    period_end = period.end
    end = period_end + dt.timedelta(microseconds=1)
    for record_id, vin, sale_date, _phone, _postcode in data.sales:
        if oldest < sale_date and midnight(sale_date) < period_end:
            counts["lifecycle_customers"] += 1
            counts["lifecycle_covered"] += contacted_between(
                data.contacts, (vin, str(record_id)), covered_after, end)


def _lead_counts(data: DealerData, period: Period, counts: dict) -> float | None:
    hours_list = []
    for record_id, created_at, timeframe, status in data.in_month("leads", period.month):
        hours = first_response_hours(created_at, str(record_id), data.contacts)
        state = lead_response_state(hours, created_at, period.now)
        counts["leads_due"] += state != "pending"
        counts["leads_24h"] += state == "ok"
        if hours is not None:
            counts["leads_responded"] += 1
            hours_list.append(hours)
        if timeframe in BUCKET_COLUMNS:
            leads_col, won_col = BUCKET_COLUMNS[LeadTimeframe(timeframe)]
            counts[leads_col] += 1
            counts[won_col] += status == "won"
    return median(hours_list)


def _other_counts(data: DealerData, period: Period, counts: dict) -> None:
    for _opened_at, vin, parts_count, technician in data.in_month("repairs", period.month):
        counts["records_checked"] += 1
        counts["records_complete"] += not repair_problems(vin, parts_count, technician)
    for received_at, answered_at in data.in_month("complaints", period.month):
        state = complaint_state(received_at, answered_at, period.now)
        counts["complaints_due"] += state != "pending"
        counts["complaints_24h"] += state == "ok"
    for _at, score in data.in_month("surveys", period.month):
        counts["surveys"] += 1
        counts["surveys_loyal"] += score == 5
    counts["sync_days"] = len(data.in_month("sync_days", period.month))
    counts["month_days"] = month_days(period)


def compute_month(dealer: Dealer, data: DealerData, period: Period) -> dict:
    """Every metric of one dealer in one month, from its loaded records, as a row to insert."""
    counts: dict[str, int] = dict.fromkeys(COUNT_COLUMNS, 0)
    _sales_counts(data, period, counts)
    median_h = _lead_counts(data, period, counts)
    _other_counts(data, period, counts)
    return dict(dealer_id=dealer.id, month=period.month, region_id=dealer.region_id,
                lead_median_h=median_h, usage_index=usage_index(counts), computed_at=period.now,
                **counts)


# ---------------------------------------------------------------- refreshing the aggregates

Progress = Callable[[int, int], None]


def refresh(session: Session, *, months: list[dt.date], dealer_ids: list[int] | None = None,
            now: dt.datetime | None = None, progress: Progress | None = None,
            chunk: int = 50) -> int:
    """Recompute the metric and volume aggregates of *months* for the dealers; return rows written.

    Work goes by chunks of dealers, a handful of grouped queries each, so memory stays bounded.
    """
    from portal.services import rollups  # the volumes are the rollups' half of the aggregates

    now = now or utcnow()
    stmt = select(Dealer).order_by(Dealer.id)
    if dealer_ids is not None:
        stmt = stmt.where(Dealer.id.in_(dealer_ids))
    dealers, written = list(session.exec(stmt)), 0
    for i in range(0, len(dealers), chunk):
        part = dealers[i:i + chunk]
        written += _refresh_chunk(session, part, sorted(months), now)
        rollups.refresh_volumes(session, [d.id for d in part], sorted(months))
        session.flush()
        if progress:
            progress(min(i + chunk, len(dealers)), len(dealers))
    rollups.refresh_region_totals(session, {d.region_id for d in dealers}, sorted(months))
    bump_generation(session)
    return written


def _refresh_chunk(session: Session, dealers: list[Dealer], months: list[dt.date],
                   now: dt.datetime) -> int:
    ids = [d.id for d in dealers]
    data = load_data(session, ids, months, now)
    session.exec(delete(DealerMonthMetric).where(
        DealerMonthMetric.dealer_id.in_(ids), DealerMonthMetric.month.in_(months)))
    rows = [compute_month(d, data[d.id], Period(m, now)) for d in dealers for m in months
            if midnight(m) <= now]
    if rows:
        session.execute(insert(DealerMonthMetric), rows)
    return len(rows)


def refresh_dealer_months(session: Session, dealer_id: int, months: Iterable[dt.date],
                          now: dt.datetime | None = None) -> int:
    """Recompute one dealer's aggregates for *months* (any day in a month names the month).

    Nothing calls it on the push path: pushed records reach the aggregates at the next
    periodic refresh. Like every refresh it bumps the generation (one row, locked until the
    transaction ends), so the HQ pages would compute their figures afresh: calling it per push
    would throw away the kept figures at every sync.
    """
    wanted = sorted({month_start(m) for m in months})
    return refresh(session, months=wanted, dealer_ids=[dealer_id], now=now) if wanted else 0


def record_sync_day(session: Session, agent: Agent, when: dt.datetime | None = None) -> None:
    """Note that *agent* synced successfully on the (UTC) day of *when*; idempotent per day.

    The sync push path calls this for every successful push: ``record_sync_day(session, agent)``.
    """
    day = utc(when or utcnow()).date()
    if session.get(AgentSyncDay, (agent.dealer_id, agent.id, day)) is None:
        session.add(AgentSyncDay(dealer_id=agent.dealer_id, agent_id=agent.id, day=day))


def refresh_job(session: Session, now: dt.datetime | None = None) -> int:
    """The scheduled refresh: this month and the last for everyone; all 13 the first time."""
    now = now or utcnow()
    months = last_months(now.date())
    filled = session.exec(select(func.count()).select_from(DealerMonthMetric)
                          .where(DealerMonthMetric.month == months[0])).one()
    return refresh(session, months=months if not filled else months[-2:], now=now)


def data_as_of(session: Session) -> dt.datetime | None:
    """When the aggregates the session can see were last computed (memoized like the figures)."""
    return _AS_OF.get(session, ("as_of", scope_key(session)), lambda: _data_as_of(session))


def _data_as_of(session: Session) -> dt.datetime | None:
    value = session.exec(select(func.max(DealerMonthMetric.computed_at))).one()
    return utc(value) if value else None


def dealer_ids_for(session: Session, code: str | None) -> list[int] | None:
    """[id] of the dealer with *code*, [] when there is none, None (all) without a code."""
    if code is None:
        return None
    return list(session.exec(select(Dealer.id).where(Dealer.code == code)))


# ---------------------------------------------------------------- figures kept until a refresh

_GENERATION = "metrics_generation"  # session.info key: (transaction, token) read in it
T = TypeVar("T")


def bump_generation(session: Session) -> None:
    """Mark the aggregates as changed; runs in the refresh's transaction, so readers see the new
    generation exactly when they see the new rows."""
    table = MetricsGeneration.__table__
    done = session.execute(update(table).where(table.c.id == 1).values(
        generation=table.c.generation + 1, refreshed_at=utcnow())).rowcount
    if not done:  # a database made without the migration's row
        session.add(MetricsGeneration(id=1, generation=1))
    session.info.pop(_GENERATION, None)


def generation(session: Session) -> tuple:
    """Which refresh of which database the aggregates the session reads come from.

    One primary-key read, kept for the rest of the session's transaction (its view of the data).
    """
    transaction, cached = session.get_transaction(), session.info.get(_GENERATION)
    if transaction is not None and cached is not None and cached[0] is transaction:
        return cached[1]
    row = session.exec(select(MetricsGeneration.generation, MetricsGeneration.refreshed_at)
                       .where(MetricsGeneration.id == 1)).first()
    token = (session.get_bind().url.render_as_string(), *(row or (None, None)))
    session.info[_GENERATION] = (session.get_transaction(), token)
    return token


def scope_key(session: Session) -> frozenset[int] | None:
    """The dealers a session sees, for keys of figures that depend on the scope."""
    return get_scope(session).dealer_ids


class Memo:
    """Figures computed from the aggregates, kept in this process until the next refresh.

    Every key carries the :func:`generation`, so a refresh by any process retires all entries
    at once; at most *size* entries stay, the least recently used go first, and none older
    than *max_age* seconds when given (for figures of live records). Keys of figures read
    through a scoped session must carry :func:`scope_key`. Callers must not change what they
    get: it is shared between requests and threads.
    """

    def __init__(self, size: int = 64, max_age: float | None = None) -> None:
        self.size, self.max_age = size, max_age
        self._entries: OrderedDict[tuple, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session: Session, key: tuple, compute: Callable[[], T]) -> T:
        full, now = (generation(session), *key), time.monotonic()
        with self._lock:
            entry = self._entries.get(full)
            if entry is not None and (self.max_age is None or now - entry[0] < self.max_age):
                self._entries.move_to_end(full)
                return entry[1]
        value = compute()  # outside the lock: two threads may both compute, both get the same
        with self._lock:
            self._entries[full] = (now, value)
            self._entries.move_to_end(full)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._entries)


_AS_OF = Memo()
