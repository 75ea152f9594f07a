"""The order pipeline for region managers and HQ: vehicles by stage, and the stuck ones."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from common.enums import Stage
from portal.models import CarModel, Dealer, OrderLine, OrderVehicle, Region, VehicleOrder
from portal.services.orders import EXPECTED_DURATION, STUCK_FACTOR, Page

_LIVE = [s for s in EXPECTED_DURATION]


def _same_vehicle_line():
    return and_(OrderLine.dealer_id == OrderVehicle.dealer_id,
                OrderLine.order_id == OrderVehicle.order_id, OrderLine.line == OrderVehicle.line)


def by_region(*, session: Session, dealer_ids: frozenset[int] | None) -> list[dict]:
    """Per region: how many vehicles are at each stage (within the session's scope)."""
    stmt = (select(Region.id, Region.name_zh, Region.name_en, OrderVehicle.stage, func.count())
            .select_from(OrderVehicle).join(Dealer, Dealer.id == OrderVehicle.dealer_id)
            .join(Region, Region.id == Dealer.region_id)
            .where(OrderVehicle.stage.in_(_LIVE))
            .group_by(Region.id, Region.name_zh, Region.name_en, OrderVehicle.stage))
    if dealer_ids is not None:
        stmt = stmt.where(Dealer.id.in_(dealer_ids))
    return _pivot(session.exec(stmt))


def by_model(*, session: Session) -> list[dict]:
    """Per model: how many vehicles are at each stage."""
    stmt = (select(CarModel.id, CarModel.name_zh, CarModel.name_en, OrderVehicle.stage,
                   func.count())
            .select_from(OrderVehicle).join(OrderLine, _same_vehicle_line())
            .join(CarModel, CarModel.id == OrderLine.model_id)
            .where(OrderVehicle.stage.in_(_LIVE))
            .group_by(CarModel.id, CarModel.name_zh, CarModel.name_en, OrderVehicle.stage))
    return _pivot(session.exec(stmt))


def _pivot(rows) -> list[dict]:
    table: dict = defaultdict(lambda: {"counts": defaultdict(int), "total": 0})
    for key, zh, en, stage, count in rows:
        entry = table[key]
        entry.update(name_zh=zh, name_en=en)
        entry["counts"][stage] += count
        entry["total"] += count
    return sorted(table.values(), key=lambda e: -e["total"])


def stuck_condition(now: dt.datetime):
    """Vehicles that stayed longer than STUCK_FACTOR × the expected time in their stage."""
    return or_(*(and_(OrderVehicle.stage == stage,
                      OrderVehicle.stage_at < now - expected * STUCK_FACTOR)
                 for stage, expected in EXPECTED_DURATION.items()))


def stuck(*, session: Session, now: dt.datetime, page: int = 1, per_page: int = 25) -> Page:
    """One page of stuck vehicles, longest-waiting first, with their order and dealer."""
    base = (select(VehicleOrder, OrderVehicle, Dealer)
            .join(OrderVehicle, and_(OrderVehicle.dealer_id == VehicleOrder.dealer_id,
                                     OrderVehicle.order_id == VehicleOrder.id))
            .join(Dealer, Dealer.id == VehicleOrder.dealer_id)
            .where(stuck_condition(now)))
    total = session.exec(select(func.count()).select_from(OrderVehicle)
                         .where(stuck_condition(now))).one()
    rows = session.exec(base.order_by(OrderVehicle.stage_at)
                        .offset((page - 1) * per_page).limit(per_page)).all()
    items = [{"order": o, "vehicle": v, "dealer": d,
              "waiting": now - _aware(v.stage_at),
              "expected": EXPECTED_DURATION[Stage(v.stage)]} for o, v, d in rows]
    return Page(items, total, page, per_page)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
