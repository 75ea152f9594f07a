"""HQ rollups by region, dealer, brand, model and month, and the records behind each figure.

The figures come from the precomputed :class:`~portal.models.DealerMonthVolume` and
:class:`~portal.models.DealerMonthPart` rows (refreshed with the metrics); the
drill-downs query the records themselves. Both go through the caller's session,
so the tenancy layer limits them to the dealers in scope.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Row, String, and_, bindparam, insert, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import DateTime
from sqlmodel import Session, delete, func, select

from common.enums import Stage
from portal.models import (
    CarModel,
    Dealer,
    DealerMonthPart,
    DealerMonthVolume,
    OrderLine,
    OrderVehicle,
    Region,
    RegionMonthPart,
    RegionMonthVolume,
    RepairOrder,
    RepairPart,
    Sale,
    VehicleOrder,
)
from portal.services.metrics import Memo, midnight, next_month, scope_key
from portal.tenancy import get_scope


class month_of(FunctionElement):  # noqa: N801 - reads as the SQL function it compiles to
    """'YYYY-MM' of a date or UTC timestamp, in each database's own dialect."""

    type = String()
    inherit_cache = True


@compiles(month_of, "sqlite")
def _month_sqlite(element, compiler, **kw) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"  # qmark: no escaping


@compiles(month_of, "postgresql")
def _month_pg(element, compiler, **kw) -> str:
    arg = compiler.process(element.clauses, **kw)
    if isinstance(list(element.clauses)[0].type, DateTime):
        arg = f"({arg} AT TIME ZONE 'UTC')"
    return f"to_char({arg}, 'YYYY-MM')"


def parse_month(value: str) -> dt.date:
    return dt.date(int(value[:4]), int(value[5:7]), 1)


# ---------------------------------------------------------------- refreshing the volumes


def _vin_models(session: Session, ro_filter) -> dict[str, tuple[str, str]]:
    """VIN → (brand, model) as sold (by any dealer), for the VINs repaired under *ro_filter*.

    Looked up apart and joined in Python: PostgreSQL misjudges the size of a join of repair
    orders to their parts and would nest a loop over this mapping.
    """
    sale, ro = Sale.__table__, RepairOrder.__table__
    stmt = (select(sale.c.vin, func.min(sale.c.brand), func.min(sale.c.model))
            .where(sale.c.vin.in_(select(ro.c.vin).where(ro_filter))).group_by(sale.c.vin))
    return {vin: (brand, model) for vin, brand, model in session.execute(stmt)}


def refresh_volumes(session: Session, dealer_ids: list[int], months: list[dt.date]) -> None:
    """Recompute sales, repairs and parts per model of *months* for *dealer_ids*."""
    first, after = midnight(months[0]), midnight(next_month(months[-1]))
    wanted = {m.strftime("%Y-%m") for m in months}
    regions = dict(session.exec(select(Dealer.id, Dealer.region_id)
                                .where(Dealer.id.in_(dealer_ids))).all())
    for table in (DealerMonthVolume, DealerMonthPart):
        session.exec(delete(table).where(table.dealer_id.in_(dealer_ids),
                                         table.month.in_(months)))
    ro = RepairOrder.__table__
    ro_filter = and_(ro.c.dealer_id.in_(dealer_ids), ro.c.opened_at >= first,
                     ro.c.opened_at < after)
    volumes = _volume_rows(session, dealer_ids, first, after, ro_filter)
    rows = [dict(dealer_id=d, month=parse_month(m), brand=b, model=mo, region_id=regions[d],
                 sales=s, repairs=r) for (d, m, b, mo), (s, r) in volumes.items() if m in wanted]
    parts = [dict(row, region_id=regions[row["dealer_id"]])
             for row in _part_rows(session, ro_filter) if row["month"].strftime("%Y-%m") in wanted]
    for table, values in ((DealerMonthVolume, rows), (DealerMonthPart, parts)):
        if values:  # Core executemany: thousands of rows without building ORM objects
            session.execute(insert(table), values)


def _region_sums(region_table) -> tuple:
    """The dealer table a region table sums, its key columns, and the summed columns."""
    # Core columns: the sums cover every dealer of the region whatever the session's scope
    if region_table is RegionMonthVolume:
        t = DealerMonthVolume.__table__.c
        return t, ["brand", "model"], [("sales", func.sum(t.sales)),
                                       ("repairs", func.sum(t.repairs))]
    t = DealerMonthPart.__table__.c
    return t, ["brand", "model", "part_number"], [
        ("name", func.min(t.name)), ("qty", func.sum(t.qty)), ("repairs", func.sum(t.repairs))]


def refresh_region_totals(session: Session, region_ids: Iterable[int],
                          months: list[dt.date]) -> None:
    """Sum the dealer volumes and parts of *months* into the per-region tables HQ pages read."""
    region_ids = sorted(set(region_ids))
    for region_table in (RegionMonthVolume, RegionMonthPart):
        dealer_table, keys, sums = _region_sums(region_table)
        session.exec(delete(region_table).where(region_table.region_id.in_(region_ids),
                                                region_table.month.in_(months)))
        group = [dealer_table.region_id, dealer_table.month,
                 *[getattr(dealer_table, k) for k in keys]]
        source = (select(*group, *[expr for _, expr in sums])
                  .where(dealer_table.region_id.in_(region_ids), dealer_table.month.in_(months))
                  .group_by(*group))
        names = ["region_id", "month", *keys, *[name for name, _ in sums]]
        session.execute(insert(region_table).from_select(names, source))


def _volume_rows(session, dealer_ids, first, after, ro_filter) -> dict[tuple, list[int]]:
    volumes: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    sale_month = month_of(Sale.sale_date)
    sales = (select(Sale.dealer_id, sale_month, Sale.brand, Sale.model, func.count())
             .where(Sale.dealer_id.in_(dealer_ids), Sale.sale_date >= first.date(),
                    Sale.sale_date < after.date())
             .group_by(Sale.dealer_id, sale_month, Sale.brand, Sale.model))
    for dealer_id, month, brand, model, count in session.exec(sales):
        volumes[(dealer_id, month, brand, model)][0] += count
    ro, models = RepairOrder.__table__, _vin_models(session, ro_filter)
    ro_month = month_of(ro.c.opened_at)
    repairs = (select(ro.c.dealer_id, ro_month, ro.c.vin, func.count()).where(ro_filter)
               .group_by(ro.c.dealer_id, ro_month, ro.c.vin))
    for dealer_id, month, vin, count in session.execute(repairs):
        volumes[(dealer_id, month, *models.get(vin, ("", "")))][1] += count
    return volumes


def _part_rows(session: Session, ro_filter) -> list[dict]:
    ro, part, models = RepairOrder.__table__, RepairPart.__table__, _vin_models(session, ro_filter)
    ro_month = month_of(ro.c.opened_at)
    stmt = (select(ro.c.dealer_id, ro_month, ro.c.vin, part.c.part_number,
                   func.min(part.c.name), func.sum(part.c.qty),
                   func.count(func.distinct(ro.c.record_id)))
            .select_from(ro.join(part, and_(part.c.dealer_id == ro.c.dealer_id,
                                            part.c.record_id == ro.c.record_id)))
            .where(ro_filter).group_by(ro.c.dealer_id, ro_month, ro.c.vin, part.c.part_number))
    sums: dict[tuple, dict] = {}
    for dealer_id, month, vin, number, name, qty, repairs in session.execute(stmt):
        key = (dealer_id, month, *models.get(vin, ("", "")), number)
        row = sums.setdefault(key, dict(dealer_id=dealer_id, month=parse_month(month),
                                        brand=key[2], model=key[3], part_number=number,
                                        name=name, qty=0, repairs=0))
        row["qty"] += int(qty)
        row["repairs"] += int(repairs)  # a repair order has one VIN: the counts add up
    return list(sums.values())


# ---------------------------------------------------------------- filters and figures


@dataclass(frozen=True)
class Filters:
    """What a rollup page shows: a month range and optionally a region, dealer, brand, model."""

    first: dt.date
    last: dt.date
    region_id: int | None = None
    dealer_id: int | None = None
    brand: str | None = None
    model: str | None = None

    def apply(self, table, *, models: bool = True) -> list:
        """WHERE clauses for an aggregate table with month/region_id/dealer_id/brand/model."""
        clauses = [table.month >= self.first, table.month <= self.last]
        if self.region_id is not None:
            clauses.append(table.region_id == self.region_id)
        if self.dealer_id is not None:
            clauses.append(table.dealer_id == self.dealer_id)
        if models:
            clauses += [c == v for c, v in ((table.brand, self.brand), (table.model, self.model))
                        if v is not None]
        return clauses

    def query(self, **changes) -> dict:
        """The URL parameters of these filters, with *changes* applied."""
        return {k: v for k, v in {**self.params(), **changes}.items() if v is not None}

    def params(self) -> dict:
        """Every URL parameter, None for the filters not set, in the order URLs list them."""
        return {"first": self.first.strftime("%Y-%m"), "last": self.last.strftime("%Y-%m"),
                "region": self.region_id, "dealer": self.dealer_id, "brand": self.brand,
                "model": self.model}


@dataclass
class Rollup:
    """Sales and repairs by one dimension."""

    rows: list[dict] = field(default_factory=list)

    @property
    def total_sales(self) -> int:
        return sum(r["sales"] for r in self.rows)

    @property
    def total_repairs(self) -> int:
        return sum(r["repairs"] for r in self.rows)


_DIMENSIONS = {
    "month": ("month",),
    "region": ("region_id",),
    "dealer": ("dealer_id",),
    "model": ("brand", "model"),
}


def whole_regions(session: Session) -> list[int] | None:
    """The regions whose dealers are exactly the session's scope; None for a global scope.

    Empty when the scope is not a union of whole regions (a dealer's own scope).
    """
    scope = get_scope(session)
    if scope.is_global:
        return None
    touched = select(Dealer.region_id).where(Dealer.id.in_(scope.dealer_ids))
    members: dict[int, set[int]] = defaultdict(set)
    for dealer_id, region_id in session.exec(select(Dealer.id, Dealer.region_id)
                                             .where(Dealer.region_id.in_(touched))):
        members[region_id].add(dealer_id)
    covered = set().union(*members.values()) if members else set()
    return sorted(members) if covered == scope.dealer_ids else []


def source_table(session: Session, filters: Filters, dealer_table, region_table,
                 dimension: str = "") -> tuple[type, list]:
    """Where to read: the per-region sums when the scope is national or whole regions and no
    dealer is picked (far fewer rows); else the per-dealer rows, filtered by the tenancy layer.
    Returns the table and the clauses that keep region sums within the scope."""
    regions = whole_regions(session)
    if filters.dealer_id is not None or dimension == "dealer" or regions == []:
        return dealer_table, []
    return region_table, ([] if regions is None else [region_table.region_id.in_(regions)])


def volumes_by(session: Session, filters: Filters, dimension: str) -> Rollup:
    """Sales and repairs grouped by *dimension* (month, region, dealer or model), biggest first."""
    table, scoped = source_table(session, filters, DealerMonthVolume, RegionMonthVolume,
                                 dimension)
    keys = [getattr(table, k) for k in _DIMENSIONS[dimension]]
    sales, repairs = func.sum(table.sales), func.sum(table.repairs)
    order = keys if dimension == "month" else (sales.desc(), repairs.desc(), *keys)
    stmt = (select(*keys, sales, repairs).where(*filters.apply(table), *scoped)
            .group_by(*keys).order_by(*order))
    return Rollup([{"key": tuple(row[:-2]) if len(keys) > 1 else row[0],
                    "sales": int(row[-2] or 0), "repairs": int(row[-1] or 0)}
                   for row in session.exec(stmt)])


def top_parts(session: Session, filters: Filters, per_model: int = 5) -> dict[tuple, list[dict]]:
    """The most replaced parts (by quantity) of each model, the busiest models first."""
    t, scoped = source_table(session, filters, DealerMonthPart, RegionMonthPart)
    stmt = (select(t.brand, t.model, t.part_number, func.min(t.name), func.sum(t.qty),
                   func.sum(t.repairs))
            .where(*filters.apply(t), *scoped).group_by(t.brand, t.model, t.part_number))
    by_model: dict[tuple, list[dict]] = defaultdict(list)
    for brand, model, number, name, qty, repairs in session.exec(stmt):
        by_model[(brand, model)].append({"part_number": number, "name": name, "qty": int(qty),
                                         "repairs": int(repairs)})
    ranked = sorted(by_model.items(), key=lambda kv: -sum(p["qty"] for p in kv[1]))
    return {model: sorted(parts, key=lambda p: (-p["qty"], p["part_number"]))[:per_model]
            for model, parts in ranked}


def pipeline(session: Session, filters: Filters) -> dict[str, int]:
    """Ordered vehicles by current production stage (live), within the region/dealer filter."""
    stmt = (select(OrderVehicle.stage, func.count()).select_from(OrderVehicle)
            .group_by(OrderVehicle.stage))
    stmt = _pipeline_filters(stmt, filters)
    counts = dict(session.exec(stmt).all())
    return {stage.value: int(counts.get(stage.value, 0)) for stage in Stage}


def _pipeline_filters(stmt, filters: Filters):
    if filters.dealer_id is not None:
        stmt = stmt.where(OrderVehicle.dealer_id == filters.dealer_id)
    if filters.region_id is not None:
        stmt = stmt.where(OrderVehicle.dealer_id.in_(
            select(Dealer.id).where(Dealer.region_id == filters.region_id)))
    return stmt


@dataclass(frozen=True)
class Figures:
    """What the rollups page shows from the aggregates for one scope and filter set."""

    month: Rollup
    region: Rollup
    model: Rollup
    dealer: Rollup  # every dealer with figures, biggest first: the page shows a slice
    parts: dict[tuple, list[dict]]


_FIGURES = Memo(32)  # an entry holds every dealer's row: ~250 kB with 1,000 dealers


def figures(session: Session, filters: Filters) -> Figures:
    """Sales, repairs and parts by month, region, model and dealer, within the session's scope.

    Kept per process until the next refresh of the aggregates; callers must not change them.
    """
    return _FIGURES.get(session, ("rollups", scope_key(session), filters), lambda: Figures(
        *(volumes_by(session, filters, dim) for dim in ("month", "region", "model", "dealer")),
        top_parts(session, filters)))


def region_names(session: Session) -> dict[int, Row]:
    """The id, code and names of every region (rows, not ORM objects)."""
    return {r.id: r for r in session.exec(select(Region.id, Region.code, Region.name_zh,
                                                 Region.name_en))}


_DEALER_NAMES = (select(Dealer.id, Dealer.code, Dealer.name_zh, Dealer.name_en)
                 .where(Dealer.id.in_(bindparam("ids", expanding=True))))


def dealer_names(session: Session, ids) -> dict[int, Row]:
    """The id, code and names of the dealers *ids* (rows, not ORM objects: pages list 100)."""
    return {d.id: d for d in session.exec(_DEALER_NAMES, params={"ids": list(ids)})}


# ---------------------------------------------------------------- drill-downs


def _dealer_clauses(column, filters: Filters) -> list:
    clauses = []
    if filters.dealer_id is not None:
        clauses.append(column == filters.dealer_id)
    if filters.region_id is not None:
        clauses.append(column.in_(select(Dealer.id).where(Dealer.region_id == filters.region_id)))
    return clauses


def sales_query(filters: Filters):
    """The sales behind a sales figure, newest first."""
    clauses = [Sale.sale_date >= filters.first, Sale.sale_date < next_month(filters.last),
               *_dealer_clauses(Sale.dealer_id, filters)]
    clauses += [c == v for c, v in ((Sale.brand, filters.brand), (Sale.model, filters.model))
                if v is not None]
    return select(Sale).where(*clauses).order_by(Sale.sale_date.desc(), Sale.deal_number)


def _model_vins(filters: Filters):
    """Clause: the repaired VIN was sold (by any dealer) as the filtered brand/model."""
    sale = Sale.__table__
    if filters.brand == "" and filters.model == "":
        return RepairOrder.vin.not_in(select(sale.c.vin))
    conds = [c == v for c, v in ((sale.c.brand, filters.brand), (sale.c.model, filters.model))
             if v is not None]
    return RepairOrder.vin.in_(select(sale.c.vin).where(*conds)) if conds else literal(True)


def repairs_query(filters: Filters, part_number: str | None = None):
    """The repair orders behind a repairs or parts figure, newest first."""
    clauses = [RepairOrder.opened_at >= midnight(filters.first),
               RepairOrder.opened_at < midnight(next_month(filters.last)),
               *_dealer_clauses(RepairOrder.dealer_id, filters), _model_vins(filters)]
    if part_number is not None:
        clauses.append(RepairOrder.record_id.in_(
            select(RepairPart.record_id).where(RepairPart.part_number == part_number,
                                               RepairPart.dealer_id == RepairOrder.dealer_id)))
    return select(RepairOrder).where(*clauses).order_by(RepairOrder.opened_at.desc(),
                                                        RepairOrder.ro_number)


def pipeline_query(filters: Filters, stage: str):
    """The ordered vehicles at *stage*, with their order number and model."""
    stmt = (select(OrderVehicle, VehicleOrder.number, CarModel)
            .join(VehicleOrder, and_(VehicleOrder.dealer_id == OrderVehicle.dealer_id,
                                     VehicleOrder.id == OrderVehicle.order_id))
            .join(OrderLine, and_(OrderLine.dealer_id == OrderVehicle.dealer_id,
                                  OrderLine.order_id == OrderVehicle.order_id,
                                  OrderLine.line == OrderVehicle.line))
            .join(CarModel, CarModel.id == OrderLine.model_id)
            .where(OrderVehicle.stage == stage))
    return _pipeline_filters(stmt, filters).order_by(OrderVehicle.stage_at.desc())


@dataclass(frozen=True)
class Page:
    items: list
    page: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def paginate(session: Session, stmt, *, page: int, size: int) -> Page:
    """One page of *stmt*'s rows and the total count."""
    total = session.exec(select(func.count()).select_from(stmt.order_by(None).subquery())).one()
    page = max(1, min(page, max(1, -(-total // size))))
    rows = session.exec(stmt.offset((page - 1) * size).limit(size)).all()
    return Page(list(rows), page, size, total)

