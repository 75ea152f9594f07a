"""Vehicle and customer 360: one picture of a vehicle or customer from synced records.

Who may see a vehicle's repairs done at another dealer is decided in the tenancy layer, not
here: repairs are read through :func:`portal.tenancy.service_history`, which lets a dealer see
every repair (at any station) of a VIN it sold or serviced, a region manager the same for the
region's dealers, and HQ everything. Sales, customers, contacts, complaints and surveys stay
strictly per dealer; a VIN the user's dealers never sold or serviced is "not found".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, or_
from sqlmodel import Session, select

from common.followup import BUSINESS_TZ
from portal.models import Complaint, Contact, Dealer, Lead, RepairOrder, RepairPart, Sale, Survey
from portal.services.crm_lists import like
from portal.tenancy import service_history


@dataclass
class Repair:
    order: RepairOrder
    station: Dealer
    parts: list[RepairPart] = field(default_factory=list)


@dataclass
class Vehicle360:
    vin: str
    sales: list[tuple[Sale, Dealer]]
    repairs: list[Repair]  # oldest first

    @property
    def sale(self) -> Sale | None:
        return self.sales[-1][0] if self.sales else None

    @property
    def timeline(self) -> list[tuple[str, object]]:
        """("sale", (Sale, Dealer)) and ("repair", Repair) events, oldest first."""
        events = [(dt.datetime.combine(s.sale_date, dt.time(), BUSINESS_TZ), "sale", (s, d))
                  for s, d in self.sales]
        events += [(_aware(r.order.opened_at), "repair", r) for r in self.repairs]
        return [(kind, item) for _, kind, item in sorted(events, key=lambda e: e[0])]


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _dealers(session: Session, ids: set[int]) -> dict[int, Dealer]:
    return {d.id: d for d in session.exec(select(Dealer).where(Dealer.id.in_(ids)))}


def _repairs(session: Session, vin: str) -> list[Repair]:
    orders = list(session.exec(service_history(
        select(RepairOrder).where(RepairOrder.vin == vin).order_by(RepairOrder.opened_at))))
    keys = {(o.dealer_id, o.record_id) for o in orders}
    parts = session.exec(service_history(select(RepairPart).where(
        RepairPart.record_id.in_([k[1] for k in keys])).order_by(RepairPart.line))) if keys else []
    by_order: dict[tuple, list[RepairPart]] = {}
    for part in parts:
        by_order.setdefault((part.dealer_id, part.record_id), []).append(part)
    dealers = _dealers(session, {o.dealer_id for o in orders})
    return [Repair(o, dealers[o.dealer_id], by_order.get((o.dealer_id, o.record_id), []))
            for o in orders]


def vehicle_360(*, session: Session, vin: str) -> Vehicle360 | None:
    """The sale(s) and every visible repair of *vin*, or None when the user may not see it."""
    vin = vin.strip().upper()
    sales = list(session.exec(select(Sale).where(Sale.vin == vin).order_by(Sale.sale_date)))
    repairs = _repairs(session, vin)
    if not sales and not repairs:
        return None
    dealers = _dealers(session, {s.dealer_id for s in sales})
    return Vehicle360(vin, [(s, dealers[s.dealer_id]) for s in sales], repairs)


@dataclass
class Customer360:
    phone: str
    name: str
    sales: list[Sale]
    leads: list[Lead]
    contacts: list[Contact]
    complaints: list[Complaint]
    surveys: list[Survey]


def _by_refs(session: Session, model, refs: list[str], order) -> list:
    if not refs:
        return []
    return list(session.exec(select(model).where(model.customer_ref.in_(refs)).order_by(order)))


def customer_360(*, session: Session, phone: str) -> Customer360 | None:
    """A customer (known by phone) with vehicles, leads, contacts, complaints and surveys."""
    sales = list(session.exec(select(Sale).where(Sale.customer_phone == phone)
                              .order_by(Sale.sale_date)))
    leads = list(session.exec(select(Lead).where(Lead.phone == phone).order_by(Lead.created_at)))
    if not sales and not leads:
        return None
    refs = [s.vin for s in sales] + [str(r.record_id) for r in (*sales, *leads)]
    name = sales[-1].customer_name if sales else leads[-1].name
    return Customer360(
        phone, name, sales, leads,
        _by_refs(session, Contact, refs, Contact.at.desc()),
        _by_refs(session, Complaint, refs, Complaint.received_at.desc()),
        _by_refs(session, Survey, refs, Survey.at.desc()),
    )


def phone_of_sale(*, session: Session, record_id) -> str | None:
    """The customer phone of a sale record in scope (customer 360 reached from a sale)."""
    return session.exec(select(Sale.customer_phone).where(Sale.record_id == record_id)).first()


@dataclass(frozen=True)
class CustomerFilters:
    q: str = ""
    customer_type: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CustomerFilters:
        return cls(args.get("q", "").strip()[:100], args.get("customer_type", "")[:12])


def customers_query(filters: CustomerFilters):
    """Customers (sales grouped by phone), newest purchase first."""
    stmt = select(Sale.customer_phone, func.max(Sale.customer_name).label("name"),
                  func.count().label("vehicles"), func.max(Sale.sale_date).label("last_sale"),
                  func.max(Sale.customer_type).label("customer_type"))
    return (stmt.where(*_customer_conditions(filters)).group_by(Sale.customer_phone)
            .order_by(func.max(Sale.sale_date).desc(), Sale.customer_phone))


def count_customers(*, session: Session, filters: CustomerFilters) -> int:
    """How many customers customers_query lists: the distinct phones, without grouping."""
    return session.execute(select(func.count(Sale.customer_phone.distinct()))
                           .where(*_customer_conditions(filters))).scalar_one()


def _customer_conditions(filters: CustomerFilters) -> list:
    conditions = []
    if filters.q:
        pattern = like(filters.q)
        conditions.append(or_(Sale.customer_name.like(pattern, escape="\\"),
                              Sale.customer_phone.like(pattern, escape="\\"),
                              Sale.vin.like(like(filters.q.upper()), escape="\\")))
    if filters.customer_type:
        conditions.append(Sale.customer_type == filters.customer_type)
    return conditions


@dataclass(frozen=True)
class VehicleFilters:
    q: str = ""
    brand: str = ""
    sold_from: dt.date | None = None
    sold_to: dt.date | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> VehicleFilters:
        return cls(args.get("q", "").strip()[:100], args.get("brand", "").strip()[:100],
                   _date(args.get("sold_from")), _date(args.get("sold_to")))


def _date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def vehicles_query(filters: VehicleFilters):
    """Vehicles sold (one row per sale), newest first."""
    stmt = select(Sale)
    if filters.q:
        pattern = like(filters.q)
        stmt = stmt.where(or_(Sale.vin.like(like(filters.q.upper()), escape="\\"),
                              Sale.model.like(pattern, escape="\\"),
                              Sale.customer_name.like(pattern, escape="\\")))
    if filters.brand:
        stmt = stmt.where(Sale.brand == filters.brand)
    if filters.sold_from:
        stmt = stmt.where(Sale.sale_date >= filters.sold_from)
    if filters.sold_to:
        stmt = stmt.where(Sale.sale_date <= filters.sold_to)
    return stmt.order_by(Sale.sale_date.desc(), Sale.vin)
