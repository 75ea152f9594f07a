"""The factory feed: tokens of the factory system, applying its events, and the simulator.

A factory event addresses one vehicle by ``order_number`` + ``line`` + ``unit``
(``unit`` is the 1-based index of the vehicle within the line and defaults to 1).
Events are idempotent on ``event_id``; a report of an earlier stage than the one a
vehicle has reached is kept in its history but never moves it backwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlmodel import Session, select

from common.enums import PRODUCTION_STAGES, Stage
from common.protocol import describe_validation_error
from common.validators import FieldError, validate_vin, vin_check_digit
from portal.models import (
    EtaHistory,
    FactoryEventReceipt,
    FactoryToken,
    OrderLine,
    OrderVehicle,
    StageHistory,
    VehicleOrder,
    utcnow,
)
from portal.services import orders

MAX_EVENTS = 500
APPLIED, DUPLICATE, OUT_OF_ORDER, REJECTED = (
    "applied", "duplicate", "ignored_out_of_order", "rejected")


# ---------------------------------------------------------------- tokens


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(*, session: Session, name: str, actor: str) -> tuple[FactoryToken, str]:
    """Create a token; the raw value is returned once and only its hash is kept."""
    raw = "fct_" + secrets.token_urlsafe(32)
    token = FactoryToken(name=name.strip()[:100] or "factory", token_hash=hash_token(raw),
                         hint=raw[-4:], created_by=actor)
    session.add(token)
    session.flush()
    return token, raw


def revoke_token(*, session: Session, token_id: int, now: dt.datetime | None = None
                 ) -> FactoryToken | None:
    token = session.get(FactoryToken, token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = now or utcnow()
        session.add(token)
    return token


def rotate_token(*, session: Session, token_id: int, actor: str
                 ) -> tuple[FactoryToken, str] | None:
    """Revoke a token and issue its successor under the same name."""
    old = revoke_token(session=session, token_id=token_id)
    return None if old is None else create_token(session=session, name=old.name, actor=actor)


def authenticate(*, session: Session, raw: str) -> tuple[FactoryToken | None, str]:
    """Return (token, "") for a live token, else (None, error code)."""
    token = session.exec(select(FactoryToken).where(
        FactoryToken.token_hash == hash_token(raw))).first() if raw else None
    if token is None:
        return None, "unauthorized"
    if token.revoked_at is not None:
        return None, "token_revoked"
    return token, ""


def list_tokens(*, session: Session) -> list[FactoryToken]:
    return list(session.exec(select(FactoryToken).order_by(FactoryToken.created_at.desc())))


# ---------------------------------------------------------------- events


class FactoryEvent(BaseModel):
    """One report of the factory system about one vehicle."""

    model_config = ConfigDict(extra="forbid")

    event_id: Annotated[str, Field(min_length=1, max_length=100)]
    order_number: Annotated[str, Field(min_length=1, max_length=40)]
    line: Annotated[int, Field(ge=1, le=10_000)]
    unit: Annotated[int, Field(ge=1, le=10_000)] = 1
    stage: Stage | None = None
    at: dt.datetime | None = None
    vin: Annotated[str, Field(max_length=40)] | None = None
    eta_from: dt.date | None = None
    eta_to: dt.date | None = None
    reason: Annotated[str, Field(max_length=500)] = ""

    @model_validator(mode="after")
    def _consistent(self) -> FactoryEvent:
        if self.stage is None and self.eta_from is None and self.vin is None:
            raise ValueError("an event needs a stage, an ETA range or a VIN")
        if self.stage is not None and self.at is None:
            raise ValueError("a stage event needs 'at', the time the stage was entered")
        if (self.eta_from is None) != (self.eta_to is None):
            raise ValueError("give both eta_from and eta_to, or neither")
        if self.eta_from and self.eta_from > self.eta_to:
            raise ValueError("eta_from is after eta_to")
        if self.at is not None and self.at.tzinfo is None:
            raise ValueError("'at' needs a time zone, e.g. 2026-03-01T08:00:00+08:00")
        return self


class EventResult(BaseModel):
    index: int
    event_id: str | None
    outcome: str
    code: str | None = None
    message: str | None = None
    field: str | None = None


class Rejected(Exception):
    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


def apply_events(*, session: Session, events: list[Any], token_id: int | None = None,
                 now: dt.datetime | None = None) -> list[EventResult]:
    """Apply a batch; each event succeeds or fails alone and gets its own result."""
    now = now or utcnow()
    return [_apply_raw(session, index, raw, token_id, now) for index, raw in enumerate(events)]


def _apply_raw(session: Session, index: int, raw: Any, token_id: int | None,
               now: dt.datetime) -> EventResult:
    event_id = raw.get("event_id") if isinstance(raw, dict) else None
    event_id = event_id if isinstance(event_id, str) else None
    try:
        event = FactoryEvent.model_validate(raw)
    except ValidationError as error:
        code, message, field = describe_validation_error(error)
        return EventResult(index=index, event_id=event_id, outcome=REJECTED, code=code,
                           message=message, field=field or None)
    if session.get(FactoryEventReceipt, event.event_id) is not None:
        return EventResult(index=index, event_id=event.event_id, outcome=DUPLICATE)
    try:
        with session.begin_nested():
            outcome, code, message = _apply(session, event, now)
            session.add(FactoryEventReceipt(event_id=event.event_id, outcome=outcome,
                                            token_id=token_id, received_at=now))
            session.flush()
    except Rejected as error:
        return EventResult(index=index, event_id=event.event_id, outcome=REJECTED,
                           code=error.code, message=error.message, field=error.field)
    return EventResult(index=index, event_id=event.event_id, outcome=outcome, code=code,
                       message=message)


def _apply(session: Session, event: FactoryEvent, now: dt.datetime) -> tuple[str, str | None,
                                                                            str | None]:
    order, vehicle = _target(session, event)
    current = Stage(vehicle.stage)
    if event.stage is not None and event.stage.rank < current.rank:
        _history(session, order, vehicle, event, applied=False)
        return OUT_OF_ORDER, "out_of_order", (
            f"the vehicle is already at {current}; the {event.stage} report was kept in its "
            "history")
    changed = _assign_vin(session, vehicle, event) | _apply_eta(session, order, vehicle, event, now)
    if event.stage is not None and event.stage.rank > current.rank:
        orders.move_vehicle(session, order, vehicle, event.stage, event.at, source="factory",
                     event_id=event.event_id)
        return APPLIED, None, None
    if changed:
        orders.publish_status(session, order, vehicle)
        return APPLIED, None, None
    return OUT_OF_ORDER, "not_newer", f"the vehicle is already at {current}"


def _target(session: Session, event: FactoryEvent) -> tuple[VehicleOrder, OrderVehicle]:
    order = session.exec(select(VehicleOrder).where(
        VehicleOrder.number == event.order_number.strip().upper())).first()
    if order is None:
        raise Rejected("unknown_order", f"no order {event.order_number}", "order_number")
    vehicle = session.get(OrderVehicle, (order.dealer_id, order.id, event.line, event.unit))
    if vehicle is None:
        raise Rejected("unknown_vehicle", f"order {order.number} has no line {event.line} "
                       f"unit {event.unit}", "unit")
    if vehicle.stage == Stage.cancelled:
        raise Rejected("vehicle_cancelled", "this vehicle was cancelled by the dealer", "stage")
    if event.stage in (Stage.cancelled, Stage.ordered):
        raise Rejected("stage_not_allowed", f"the factory cannot report '{event.stage}'", "stage")
    return order, vehicle


def _assign_vin(session: Session, vehicle: OrderVehicle, event: FactoryEvent) -> bool:
    """Assign the VIN at body (or later); a vehicle past body without one is refused."""
    stage = event.stage or Stage(vehicle.stage)
    if event.vin is None:
        if stage.rank >= Stage.body.rank and not vehicle.vin:
            raise Rejected("vin_required", "a vehicle entering body or later needs its VIN", "vin")
        return False
    try:
        vin = validate_vin(event.vin)
    except FieldError as error:
        raise Rejected(error.code, str(error), "vin") from error
    if vehicle.vin:
        if vehicle.vin != vin:
            raise Rejected("vin_mismatch", f"this vehicle already has VIN {vehicle.vin}", "vin")
        return False
    if stage.rank < Stage.body.rank:
        raise Rejected("vin_before_body", "a VIN is assigned when the body is built", "vin")
    if session.exec(select(OrderVehicle).where(OrderVehicle.vin == vin)).first():
        raise Rejected("vin_taken", f"VIN {vin} belongs to another vehicle", "vin")
    vehicle.vin = vin
    session.add(vehicle)
    return True


def _apply_eta(session: Session, order: VehicleOrder, vehicle: OrderVehicle,
               event: FactoryEvent, now: dt.datetime) -> bool:
    if event.eta_from is None:
        return False
    same = (vehicle.eta_from, vehicle.eta_to) == (event.eta_from, event.eta_to)
    if same and (not event.reason or event.reason == vehicle.eta_reason):
        return False
    vehicle.eta_from, vehicle.eta_to, vehicle.eta_reason = (event.eta_from, event.eta_to,
                                                            event.reason)
    session.add(vehicle)
    session.add(EtaHistory(dealer_id=order.dealer_id, order_id=order.id, line=vehicle.line,
                           unit=vehicle.unit, eta_from=event.eta_from, eta_to=event.eta_to,
                           reason=event.reason, at=event.at or now, event_id=event.event_id))
    return True


def _history(session: Session, order: VehicleOrder, vehicle: OrderVehicle, event: FactoryEvent,
             *, applied: bool) -> None:
    session.add(StageHistory(dealer_id=order.dealer_id, order_id=order.id, line=vehicle.line,
                             unit=vehicle.unit, stage=event.stage, at=event.at, applied=applied,
                             source="factory", event_id=event.event_id))


# ---------------------------------------------------------------- the simulator

DELAY_REASONS = (
    "涂装车间排产紧张 / Paint shop at capacity",
    "导航模块缺件 / Parts shortage: navigation units",
    "铁路运力不足 / Rail transport capacity",
    "质检复检 / Re-inspection at quality gate",
    "台风影响物流 / Typhoon delays logistics",
)
_WMI = {"Buick": "LSG", "Chevrolet": "LSG", "Cadillac": "LSG", "Saab": "YS3"}
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"


@dataclass(frozen=True)
class SimVehicle:
    order: VehicleOrder
    vehicle: OrderVehicle
    line: OrderLine


def _fraction(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) for a vehicle and stage."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def simulate_tick(*, session: Session, speed: float = 1440.0, now: dt.datetime | None = None,
                  limit: int = 2000) -> list[EventResult]:
    """Advance every running vehicle whose (simulated) time in its stage is up."""
    now = now or utcnow()
    events = [e for sim in _running(session, limit) for e in _events_for(session, sim, speed, now)]
    return apply_events(session=session, events=events, now=now)


def _running(session: Session, limit: int) -> list[SimVehicle]:
    rows = session.exec(
        select(VehicleOrder, OrderVehicle, OrderLine)
        .join(OrderVehicle, (OrderVehicle.dealer_id == VehicleOrder.dealer_id)
              & (OrderVehicle.order_id == VehicleOrder.id))
        .join(OrderLine, (OrderLine.dealer_id == OrderVehicle.dealer_id)
              & (OrderLine.order_id == OrderVehicle.order_id)
              & (OrderLine.line == OrderVehicle.line))
        .where(OrderVehicle.stage.not_in([Stage.delivered, Stage.cancelled]))
        .order_by(OrderVehicle.stage_at).limit(limit))
    return [SimVehicle(*row) for row in rows]


def _events_for(session: Session, sim: SimVehicle, speed: float, now: dt.datetime) -> list[dict]:
    vehicle = sim.vehicle
    stage = Stage(vehicle.stage)
    delayed = _fraction(vehicle.order_id, vehicle.line, vehicle.unit, stage, "delay") < 0.12
    factor = 0.6 + 0.7 * _fraction(vehicle.order_id, vehicle.line, vehicle.unit, stage)
    due = orders.EXPECTED_DURATION[stage] * factor * (2.2 if delayed else 1.0)
    if (now - orders._aware(vehicle.stage_at)) * speed < due:
        return []
    following = PRODUCTION_STAGES[stage.rank + 1]
    event = {"event_id": f"sim-{sim.order.number}-{vehicle.line}-{vehicle.unit}-{following}",
             "order_number": sim.order.number, "line": vehicle.line, "unit": vehicle.unit,
             "stage": str(following), "at": now.isoformat()}
    if following is Stage.body and not vehicle.vin:
        event["vin"] = _new_vin(session, sim, now)
    return [_with_eta(event, sim, following, delayed, now)]


def _with_eta(event: dict, sim: SimVehicle, stage: Stage, delayed: bool, now: dt.datetime) -> dict:
    """Give an ETA when production is scheduled, and move it (with a reason) on a delay."""
    if stage is not Stage.scheduled and not (delayed and sim.vehicle.eta_to):
        return event
    remaining = sum((orders.EXPECTED_DURATION[s] for s in PRODUCTION_STAGES[stage.rank:-1]),
                    dt.timedelta())
    start = now.date() + remaining
    if stage is Stage.scheduled:
        event.update(eta_from=str(start), eta_to=str(start + dt.timedelta(days=4)),
                     reason="已排产 / Production scheduled")
        return event
    slip = dt.timedelta(days=2 + int(4 * _fraction(sim.vehicle.order_id, stage, "slip")))
    reason = DELAY_REASONS[int(len(DELAY_REASONS) * _fraction(sim.vehicle.order_id, stage))]
    event.update(eta_from=str(sim.vehicle.eta_from + slip), eta_to=str(sim.vehicle.eta_to + slip),
                 reason=reason)
    return event


def _new_vin(session: Session, sim: SimVehicle, now: dt.datetime) -> str:
    """A valid, unused VIN for the vehicle (WMI, model code, check digit, year, serial)."""
    wmi = _WMI.get(sim.line.config.get("brand", {}).get("en", ""), "LSG")
    model = (sim.line.config.get("model", {}).get("code", "X") + "XXXXX")[:5]
    model = "".join(c if c.isalnum() and c not in "IOQ" else "X" for c in model.upper())
    year = _YEAR_CODES[(now.year - 2010) % len(_YEAR_CODES)]
    serial = int(_fraction(sim.vehicle.order_id, sim.vehicle.line, sim.vehicle.unit) * 10**6)
    for attempt in range(1000):
        body = f"{wmi}{model}0{year}S{(serial + attempt) % 10**6:06d}"
        vin = body[:8] + vin_check_digit(body) + body[9:]
        if not session.exec(select(OrderVehicle).where(OrderVehicle.vin == vin)).first():
            return vin
    raise RuntimeError("no free VIN serial")  # pragma: no cover - a million serials per model


def run_simulator(*, session_factory: Callable[[], Session], once: bool, speed: float,
                  interval: float, echo: Callable[[str], None] = print) -> int:
    """Run simulator passes (one, or until interrupted); return how many events were applied."""
    applied = 0
    while True:
        with session_factory() as session:
            results = simulate_tick(session=session, speed=speed)
            session.commit()
        moved = sum(r.outcome == APPLIED for r in results)
        applied += moved
        if moved:
            echo(f"factory simulator: {moved} vehicles moved on")
        if once:
            return applied
        try:
            time.sleep(interval)
        except KeyboardInterrupt:  # pragma: no cover - interactive stop
            return applied
