"""Vehicle orders: creating, changing and cancelling them, and reading them back.

Each unit of an order line is an :class:`OrderVehicle` moving through the
production stages on its own. The configuration of a line can change while all of
its vehicles are before ``body``; a vehicle can be cancelled until it enters
``paint``. HQ may override both windows, giving a reason; every change is audited.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Row, and_, bindparam, exists, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from common.enums import PRODUCTION_STAGES, Stage
from common.i18n import N_
from common.validators import FieldError, validate_phone
from portal.models import (
    AuditLog,
    CarModel,
    Dealer,
    EtaHistory,
    OrderLine,
    OrderSequence,
    OrderVehicle,
    StageHistory,
    VehicleOrder,
    utcnow,
)
from portal.services import catalogue
from portal.services.catalogue import Problem, Selection
from portal.tenancy import built_once

KINDS = ("retail", "stock")
PRIORITIES = ("normal", "urgent")
MAX_QUANTITY = 50
CHANGE_UNTIL = Stage.body  # configuration can change while the vehicle is before this stage
CANCEL_UNTIL = Stage.paint  # cancellation is possible while the vehicle is before this stage

# How long a vehicle is expected to stay in each stage: the one place that defines
# "stuck" on the pipeline page, the countdowns on the order page and the simulator's pace.
EXPECTED_DURATION: dict[Stage, dt.timedelta] = {
    Stage.ordered: dt.timedelta(days=2),
    Stage.scheduled: dt.timedelta(days=5),
    Stage.body: dt.timedelta(days=1),
    Stage.paint: dt.timedelta(days=1),
    Stage.assembly: dt.timedelta(days=2),
    Stage.quality: dt.timedelta(days=1),
    Stage.warehouse: dt.timedelta(days=3),
    Stage.in_transit: dt.timedelta(days=4),
}
STUCK_FACTOR = 1.5  # a vehicle is stuck after 1.5 × the expected time in its stage


class OrderError(FieldError):
    """An order request that cannot be accepted; ``field`` names the form field."""

    def __init__(self, code: str, message: str, field: str = "", problem: Problem | None = None,
                 **params: object) -> None:
        super().__init__(code, message, **params)
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class LineInput:
    model_id: int
    trim: str | None
    colour: str | None
    options: frozenset[str] = frozenset()
    quantity: int = 1

    @property
    def selection(self) -> Selection:
        return Selection(self.trim, self.colour, self.options)


@dataclass(frozen=True)
class OrderInput:
    kind: str
    delivery_point: str
    lines: tuple[LineInput, ...]
    customer_name: str = ""
    customer_phone: str = ""
    lead_id: uuid.UUID | None = None
    priority: str = "normal"
    notes: str = ""


@dataclass(frozen=True)
class Actor:
    name: str
    user_id: int | None = None
    hq: bool = False


# ---------------------------------------------------------------- windows


def can_change(stage: str) -> bool:
    return Stage(stage).rank < CHANGE_UNTIL.rank


def can_cancel(stage: str) -> bool:
    return Stage(stage).rank < CANCEL_UNTIL.rank


def expected_entry(vehicle: OrderVehicle, target: Stage) -> dt.datetime | None:
    """When *vehicle* is expected to enter *target*, or None once it is there or past it."""
    current = Stage(vehicle.stage)
    if current is Stage.cancelled or current.rank >= target.rank:
        return None
    stages = PRODUCTION_STAGES[current.rank:target.rank]
    return _aware(vehicle.stage_at) + sum((EXPECTED_DURATION[s] for s in stages), dt.timedelta())


def is_stuck(vehicle: OrderVehicle, now: dt.datetime) -> bool:
    expected = EXPECTED_DURATION.get(Stage(vehicle.stage))
    return expected is not None and now - _aware(vehicle.stage_at) > expected * STUCK_FACTOR


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# ---------------------------------------------------------------- creating


def create_order(*, session: Session, dealer_id: int, data: OrderInput, actor: Actor,
                 now: dt.datetime | None = None) -> VehicleOrder:
    """Validate and save a new order with its lines and one vehicle per unit."""
    now = now or utcnow()
    _validate_header(data)
    priced = [(line, _validated_line(session, line)) for line in data.lines]
    order = VehicleOrder(dealer_id=dealer_id, number=next_number(session, dealer_id, now.year),
                         kind=data.kind, customer_name=data.customer_name.strip(),
                         customer_phone=data.customer_phone, lead_id=data.lead_id,
                         delivery_point=data.delivery_point.strip(), priority=data.priority,
                         notes=data.notes.strip(), created_at=now, created_by=actor.name)
    session.add(order)
    for number, (line, spec) in enumerate(priced, start=1):
        _add_line(session, order, number, line, spec, now)
    session.flush()
    audit(session, order, actor, "order.create", {"lines": len(priced)})
    return order


def _validate_header(data: OrderInput) -> None:
    if data.kind not in KINDS:
        raise OrderError("kind", N_("Choose retail or stock."), "kind")
    if data.kind == "retail" and not (data.customer_name.strip() or data.lead_id):
        raise OrderError("customer", N_("A retail order needs the customer's name or a lead."),
                         "customer_name")
    if data.customer_phone:
        validate_phone(data.customer_phone)
    if not data.delivery_point.strip():
        raise OrderError("delivery_point", N_("Say where the vehicles should be delivered."),
                         "delivery_point")
    if data.priority not in PRIORITIES:
        raise OrderError("priority", N_("Choose a priority."), "priority")
    if not data.lines:
        raise OrderError("lines", N_("Add at least one configured vehicle."), "lines")


def _validated_line(session: Session, line: LineInput) -> catalogue.ModelSpec:
    """Check the configuration again on the server with the same rule engine."""
    if not 1 <= line.quantity <= MAX_QUANTITY:
        raise OrderError("quantity", N_("The quantity must be between 1 and %(max)d."),
                         "quantity", max=MAX_QUANTITY)
    model = session.get(CarModel, line.model_id)
    if model is None or not model.active:
        raise OrderError("model", N_("Choose a model."), "model")
    spec = catalogue.build_spec(session=session, model_id=line.model_id)
    verdict = catalogue.check_configuration(spec, line.selection)
    if not verdict.ok:
        problem = verdict.problems[0]
        raise OrderError(problem.code, problem.message, "lines", problem=problem)
    return spec


def _add_line(session: Session, order: VehicleOrder, number: int, line: LineInput,
              spec: catalogue.ModelSpec, now: dt.datetime) -> None:
    session.add(OrderLine(dealer_id=order.dealer_id, order_id=order.id, line=number,
                          model_id=line.model_id, **_line_config(spec, line)))
    for unit in range(1, line.quantity + 1):
        vehicle = OrderVehicle(dealer_id=order.dealer_id, order_id=order.id, line=number,
                               unit=unit, stage=Stage.ordered, stage_at=now)
        session.add(vehicle)
        session.add(StageHistory(dealer_id=order.dealer_id, order_id=order.id, line=number,
                                 unit=unit, stage=Stage.ordered, at=now, source="dealer"))
        publish_status(session, order, vehicle)


def _line_config(spec: catalogue.ModelSpec, line: LineInput) -> dict:
    def named(ref: str) -> dict:
        item = spec.item(ref)
        return {"code": item.code, "zh": item.name.zh, "en": item.name.en}

    options = [named(f"option:{c}") for c in sorted(line.options)]
    return {
        "trim_code": line.trim, "colour_code": line.colour, "option_codes": sorted(line.options),
        "quantity": line.quantity, "unit_price": catalogue.price_of(spec, line.selection),
        "config": {"brand": {"zh": spec.brand.zh, "en": spec.brand.en},
                   "model": {"code": spec.code, "zh": spec.name.zh, "en": spec.name.en},
                   "trim": named(f"trim:{line.trim}"), "colour": named(f"colour:{line.colour}"),
                   "options": options},
    }


def next_number(session: Session, dealer_id: int, year: int) -> str:
    """The next human-friendly order number of the dealer: SH001-2026-00042."""
    counter = _locked_counter(session, dealer_id, year)
    if counter is None:
        try:
            with session.begin_nested():
                session.add(OrderSequence(dealer_id=dealer_id, year=year, last=0))
        except IntegrityError:
            pass  # another order of this dealer created the year's counter first
        counter = _locked_counter(session, dealer_id, year)
    counter.last += 1
    session.add(counter)
    dealer = session.get(Dealer, dealer_id)
    return f"{dealer.code}-{year}-{counter.last:05d}"


def _locked_counter(session: Session, dealer_id: int, year: int) -> OrderSequence | None:
    return session.exec(select(OrderSequence).where(
        OrderSequence.dealer_id == dealer_id, OrderSequence.year == year
    ).with_for_update()).first()


# ---------------------------------------------------------------- changing and cancelling


def change_line(*, session: Session, order: VehicleOrder, line_no: int, selection: Selection,
                actor: Actor, reason: str = "") -> OrderLine:
    """Change a line's configuration while every live vehicle of it is before body."""
    line = _line(session, order, line_no)
    live = [v for v in vehicles_of(session, order, line_no) if v.stage != Stage.cancelled]
    locked = [v for v in live if not can_change(v.stage)]
    if not live or (locked and not actor.hq):
        raise OrderError("change_window", N_("The configuration can no longer change: a vehicle "
                                             "of this line has entered body."), "lines")
    _require_override_reason(actor, bool(locked), reason)
    data = LineInput(line.model_id, selection.trim, selection.colour, selection.options,
                     line.quantity)
    spec = _validated_line(session, data)
    before = {"trim": line.trim_code, "colour": line.colour_code, "options": line.option_codes}
    for key, value in _line_config(spec, data).items():
        setattr(line, key, value)
    session.add(line)
    action = "order.override_change" if locked else "order.change"
    audit(session, order, actor, action, {"line": line_no, "before": before, "reason": reason,
                                          "after": {"trim": line.trim_code,
                                                    "colour": line.colour_code,
                                                    "options": line.option_codes}})
    return line


def cancel_vehicle(*, session: Session, order: VehicleOrder, line_no: int, unit: int,
                   actor: Actor, reason: str = "", now: dt.datetime | None = None) -> OrderVehicle:
    """Cancel one vehicle before it enters paint (HQ may override with a reason)."""
    now = now or utcnow()
    vehicle = session.get(OrderVehicle, (order.dealer_id, order.id, line_no, unit))
    if vehicle is None:
        raise OrderError("not_found", N_("This vehicle is not part of the order."), "unit")
    if vehicle.stage == Stage.cancelled:
        raise OrderError("cancelled", N_("This vehicle is already cancelled."), "unit")
    late = not can_cancel(vehicle.stage)
    if late and not actor.hq:
        raise OrderError("cancel_window", N_("This vehicle can no longer be cancelled: it has "
                                             "entered paint."), "unit")
    _require_override_reason(actor, late, reason)
    previous = vehicle.stage
    move_vehicle(session, order, vehicle, Stage.cancelled, now,
                 source="hq" if actor.hq else "dealer")
    action = "order.override_cancel" if late else "order.cancel"
    audit(session, order, actor, action, {"line": line_no, "unit": unit, "stage": previous,
                                          "reason": reason})
    return vehicle


def cancel_order(*, session: Session, order: VehicleOrder, actor: Actor, reason: str = "",
                 now: dt.datetime | None = None) -> tuple[int, int]:
    """Cancel every vehicle still inside its window; return (cancelled, left running)."""
    done = left = 0
    for vehicle in vehicles_of(session, order):
        if vehicle.stage == Stage.cancelled:
            continue
        if can_cancel(vehicle.stage):
            cancel_vehicle(session=session, order=order, line_no=vehicle.line, unit=vehicle.unit,
                           actor=actor, reason=reason, now=now)
            done += 1
        else:
            left += 1
    return done, left


def _require_override_reason(actor: Actor, overriding: bool, reason: str) -> None:
    if overriding and actor.hq and not reason.strip():
        raise OrderError("reason", N_("An HQ override outside the window needs a reason."),
                         "reason")


def move_vehicle(session: Session, order: VehicleOrder, vehicle: OrderVehicle, stage: Stage,
          at: dt.datetime, *, source: str, event_id: str | None = None) -> None:
    vehicle.stage, vehicle.stage_at = stage, at
    session.add(vehicle)
    session.add(StageHistory(dealer_id=order.dealer_id, order_id=order.id, line=vehicle.line,
                             unit=vehicle.unit, stage=stage, at=at, source=source,
                             event_id=event_id))
    publish_status(session, order, vehicle)


def publish_status(session: Session, order: VehicleOrder, vehicle: OrderVehicle) -> None:
    """Tell the dealer's agent where the vehicle is now."""
    payload = {"order_number": order.number, "line": vehicle.line, "unit": vehicle.unit,
               "vin": vehicle.vin, "stage": str(vehicle.stage),
               "at": _aware(vehicle.stage_at).isoformat(),
               "eta_from": vehicle.eta_from.isoformat() if vehicle.eta_from else None,
               "eta_to": vehicle.eta_to.isoformat() if vehicle.eta_to else None}
    catalogue.publish(session, dealer_id=order.dealer_id, kind="order_status", payload=payload)


def audit(session: Session, order: VehicleOrder, actor: Actor, action: str, detail: dict) -> None:
    session.add(AuditLog(dealer_id=order.dealer_id, actor_user_id=actor.user_id, actor=actor.name,
                         action=action, target=order.number, detail=detail))


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class OrderFilters:
    status: str = ""  # open | completed | cancelled
    stage: str = ""
    model_id: int | None = None
    kind: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str = ""


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int
    extra: dict = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def get_order(*, session: Session, number: str) -> VehicleOrder | None:
    """The order with this number, if the session's scope may see it."""
    return session.exec(select(VehicleOrder).where(VehicleOrder.number == number)).first()


# an order (the number bound at execution), its lines and their vehicles: a row per vehicle
_WITH_VEHICLES = built_once(
    select(VehicleOrder, OrderLine, OrderVehicle)
    .outerjoin(OrderLine, and_(OrderLine.dealer_id == VehicleOrder.dealer_id,
                               OrderLine.order_id == VehicleOrder.id))
    .outerjoin(OrderVehicle, and_(OrderVehicle.dealer_id == OrderLine.dealer_id,
                                  OrderVehicle.order_id == OrderLine.order_id,
                                  OrderVehicle.line == OrderLine.line))
    .where(VehicleOrder.number == bindparam("number")).order_by(OrderLine.line, OrderVehicle.unit))


def order_with_vehicles(*, session: Session, number: str
                        ) -> tuple[VehicleOrder, list[OrderLine], list[OrderVehicle]] | None:
    """The order with this number if the session's scope may see it, its lines and their
    vehicles in line and unit order: one query, not three."""
    rows = session.exec(_WITH_VEHICLES, params={"number": number}).all()
    if not rows:
        return None
    lines = {line.line: line for _, line, _ in rows if line is not None}
    return rows[0][0], list(lines.values()), [v for *_, v in rows if v is not None]


def lines_of(session: Session, order: VehicleOrder) -> list[OrderLine]:
    return list(session.exec(select(OrderLine).where(
        OrderLine.dealer_id == order.dealer_id, OrderLine.order_id == order.id
    ).order_by(OrderLine.line)))


def vehicles_of(session: Session, order: VehicleOrder, line_no: int | None = None
                ) -> list[OrderVehicle]:
    stmt = select(OrderVehicle).where(OrderVehicle.dealer_id == order.dealer_id,
                                      OrderVehicle.order_id == order.id)
    if line_no is not None:
        stmt = stmt.where(OrderVehicle.line == line_no)
    return list(session.exec(stmt.order_by(OrderVehicle.line, OrderVehicle.unit)))


def _line(session: Session, order: VehicleOrder, line_no: int) -> OrderLine:
    line = session.get(OrderLine, (order.dealer_id, order.id, line_no))
    if line is None:
        raise OrderError("not_found", N_("This line is not part of the order."), "line")
    return line


# what the order list shows of each order, newest first: rows of these, not ORM objects
_LISTED = (select(VehicleOrder.id, VehicleOrder.number, VehicleOrder.kind, VehicleOrder.priority,
                  VehicleOrder.customer_name, VehicleOrder.created_at)
           .order_by(VehicleOrder.created_at.desc(), VehicleOrder.number.desc()))
_COUNTED = select(func.count()).select_from(VehicleOrder)


def list_orders(*, session: Session, filters: OrderFilters, page: int = 1,
                per_page: int = 25) -> Page:
    """One page of orders matching *filters*, newest first, with their vehicles' stages.

    A page that is not full is the last: the orders before it and on it are all there are, so
    only a full page (or one past the end) needs a query to count the orders.
    """
    skipped = (page - 1) * per_page
    orders = session.exec(_filtered(_LISTED, filters).offset(skipped).limit(per_page)).all()
    if 0 < len(orders) < per_page or (not orders and page == 1):
        total = skipped + len(orders)
    else:
        total = session.exec(_filtered(_COUNTED, filters)).one()
    return Page(orders, total, page, per_page, extra=_summaries(session, orders))


_RUNNING = OrderVehicle.stage.not_in([Stage.delivered, Stage.cancelled])


def _has_vehicles(*where):
    """EXISTS: the order of the outer query has vehicles matching *where*."""
    return exists(select(OrderVehicle.order_id).where(
        OrderVehicle.dealer_id == VehicleOrder.dealer_id, OrderVehicle.order_id == VehicleOrder.id,
        *where))


def _filtered(stmt, f: OrderFilters):
    if f.status == "open":
        stmt = stmt.where(_has_vehicles(_RUNNING))
    elif f.status == "completed":
        stmt = stmt.where(~_has_vehicles(_RUNNING),
                          _has_vehicles(OrderVehicle.stage == Stage.delivered))
    elif f.status == "cancelled":
        stmt = stmt.where(~_has_vehicles(OrderVehicle.stage != Stage.cancelled))
    if f.stage:
        stmt = stmt.where(_has_vehicles(OrderVehicle.stage == f.stage))
    return _filtered_more(stmt, f)


def _filtered_more(stmt, f: OrderFilters):
    if f.model_id:
        stmt = stmt.where(exists(select(OrderLine.order_id).where(
            OrderLine.dealer_id == VehicleOrder.dealer_id, OrderLine.order_id == VehicleOrder.id,
            OrderLine.model_id == f.model_id)))
    if f.kind:
        stmt = stmt.where(VehicleOrder.kind == f.kind)
    if f.date_from:
        stmt = stmt.where(VehicleOrder.created_at >= _day_start(f.date_from))
    if f.date_to:
        stmt = stmt.where(VehicleOrder.created_at < _day_start(f.date_to + dt.timedelta(days=1)))
    if f.q.strip():
        q = f.q.strip()
        stmt = stmt.where(or_(VehicleOrder.number.ilike(f"%{q}%"),
                              VehicleOrder.customer_name.ilike(f"%{q}%"),
                              _has_vehicles(OrderVehicle.vin == q.upper())))
    return stmt


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


# per order of a page (the ids bound at execution): its vehicles per stage, its lines' configs
_STAGES = built_once(select(OrderVehicle.order_id, OrderVehicle.stage, func.count())
                     .where(OrderVehicle.order_id.in_(bindparam("ids", expanding=True)))
                     .group_by(OrderVehicle.order_id, OrderVehicle.stage))
_CONFIGS = built_once(select(OrderLine.order_id, OrderLine.config)
                      .where(OrderLine.order_id.in_(bindparam("ids", expanding=True)))
                      .order_by(OrderLine.line))


def _summaries(session: Session, orders: list[Row]) -> dict:
    """Per order on the page: the models ordered and how many vehicles are at each stage."""
    ids = [o.id for o in orders]
    result = {o.id: {"stages": {}, "models": [], "units": 0} for o in orders}
    if not ids:
        return result
    # counts and columns, not whole vehicles and lines: loading ORM objects cost more than the SQL
    for order_id, stage, count in session.exec(_STAGES, params={"ids": ids}):
        result[order_id]["stages"][stage] = count
        result[order_id]["units"] += count
    for order_id, config in session.exec(_CONFIGS, params={"ids": ids}):
        result[order_id]["models"].append(config.get("model", {}))
    return result


@dataclass
class VehicleView:
    vehicle: OrderVehicle
    history: list[StageHistory]
    etas: list[EtaHistory]

    def entered(self, stage: Stage) -> dt.datetime | None:
        """When the vehicle entered *stage* (applied reports only)."""
        times = [h.at for h in self.history if h.applied and h.stage == stage]
        return _aware(min(times)) if times else None


def vehicle_views(session: Session, order: VehicleOrder, vehicles: list[OrderVehicle]
                  ) -> list[VehicleView]:
    """The vehicles of *order* with their stage and ETA histories."""
    history = session.exec(select(StageHistory).where(
        StageHistory.dealer_id == order.dealer_id, StageHistory.order_id == order.id
    ).order_by(StageHistory.at, StageHistory.recorded_at)).all()
    etas = session.exec(select(EtaHistory).where(
        EtaHistory.dealer_id == order.dealer_id, EtaHistory.order_id == order.id
    ).order_by(EtaHistory.at)).all()
    return [VehicleView(v, [h for h in history if (h.line, h.unit) == (v.line, v.unit)],
                        [e for e in etas if (e.line, e.unit) == (v.line, v.unit)])
            for v in vehicles]


_TRAIL = built_once(select(AuditLog.at, AuditLog.actor, AuditLog.action, AuditLog.detail)
                    .where(AuditLog.dealer_id == bindparam("dealer_id"),
                           AuditLog.target == bindparam("number"))
                    .order_by(AuditLog.at.desc(), AuditLog.id.desc()))


def audit_trail(session: Session, order: VehicleOrder) -> list[Row]:
    """What was done to *order*, newest first (rows of the columns the order page shows)."""
    return list(session.exec(_TRAIL, params={"dealer_id": order.dealer_id,
                                             "number": order.number}))


def find_vehicles(*, session: Session, q: str, limit: int = 50
                  ) -> list[tuple[VehicleOrder, OrderVehicle]]:
    """Vehicles whose order number or VIN matches *q* (exactly, or a VIN's last 6+ chars)."""
    q = q.strip().upper()
    if not q:
        return []
    cond = or_(VehicleOrder.number == q, OrderVehicle.vin == q)
    if len(q) >= 6:
        cond = or_(cond, OrderVehicle.vin.like(f"%{q}"))
    stmt = (select(VehicleOrder, OrderVehicle)
            .join(OrderVehicle, (OrderVehicle.dealer_id == VehicleOrder.dealer_id)
                  & (OrderVehicle.order_id == VehicleOrder.id))
            .where(cond).order_by(VehicleOrder.number, OrderVehicle.line, OrderVehicle.unit)
            .limit(limit))
    return list(session.exec(stmt))


def unit_price_total(lines: list[OrderLine]) -> Decimal:
    return sum((line.unit_price * line.quantity for line in lines), Decimal(0))
