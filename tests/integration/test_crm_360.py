"""Vehicle and customer 360, and who sees another dealer's repairs (tenancy layer)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from portal.models import Lead, RepairOrder, Sale
from portal.services import crm_customers
from portal.tenancy import Scope, TenancyError, service_history, set_scope
from tests.integration.crm_factories import NOW, add_lead, add_repair, add_sale, make_vin


@pytest.fixture
def scoped(engine):
    sessions = []

    def make(*dealers) -> Session:
        session = set_scope(Session(engine), Scope.dealers([d.id for d in dealers]))
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def two_dealers(db, make_dealer):
    seller, station = make_dealer(), make_dealer()
    sale = add_sale(db, seller)
    add_repair(db, seller, sale.vin, opened=NOW - dt.timedelta(days=60), odometer=5000)
    add_repair(db, station, sale.vin, parts=(("P-9", "刹车片", 2),), technician="陈师傅")
    return seller, station, sale


def test_selling_dealer_sees_repairs_at_other_stations(scoped, two_dealers):
    seller, station, sale = two_dealers
    view = crm_customers.vehicle_360(session=scoped(seller), vin=sale.vin)
    assert [r.station.id for r in view.repairs] == [seller.id, station.id]
    assert view.repairs[1].order.technician == "陈师傅"
    assert [(p.name, p.qty) for p in view.repairs[1].parts] == [("刹车片", 2)]


def test_servicing_dealer_sees_history_but_not_the_sale(scoped, two_dealers):
    seller, station, sale = two_dealers
    view = crm_customers.vehicle_360(session=scoped(station), vin=sale.vin)
    assert len(view.repairs) == 2
    assert view.sales == []


def test_unrelated_dealer_sees_nothing(scoped, make_dealer, two_dealers):
    _, _, sale = two_dealers
    outsider = scoped(make_dealer())
    assert crm_customers.vehicle_360(session=outsider, vin=sale.vin) is None
    assert outsider.exec(service_history(select(RepairOrder))).all() == []


def test_history_does_not_widen_other_tables(scoped, db, make_dealer):
    dealer = make_dealer()
    with pytest.raises(TenancyError):
        scoped(dealer).exec(service_history(select(Sale))).all()


def test_scopes_do_not_share_cached_criteria(scoped, db, make_dealer):
    a, b = make_dealer(), make_dealer()
    vin_a, vin_b = add_sale(db, a).vin, add_sale(db, b).vin
    add_repair(db, a, vin_a)
    add_repair(db, b, vin_b)
    for dealer, vin in ((a, vin_a), (b, vin_b)):
        rows = scoped(dealer).exec(service_history(select(RepairOrder))).all()
        assert [r.vin for r in rows] == [vin]


def test_customer_360_gathers_records_by_phone(scoped, db, make_dealer):
    dealer, other = make_dealer(), make_dealer()
    add_sale(db, dealer, phone="13900000009", vin=make_vin())
    add_lead(db, dealer, phone="13900000009")
    add_lead(db, other, phone="13900000009")
    view = crm_customers.customer_360(session=scoped(dealer), phone="13900000009")
    assert len(view.sales) == 1
    assert {lead.dealer_id for lead in view.leads} == {dealer.id}
    assert crm_customers.customer_360(session=scoped(make_dealer()), phone="13900000009") is None
    assert db.exec(select(Lead)).all()
