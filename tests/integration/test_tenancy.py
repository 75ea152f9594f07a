"""The one tenancy layer (portal/tenancy.py), on SQLite and PostgreSQL.

Rows of every foundation kind are arranged for three dealers: A and B in one
region, C in another. Sessions with a scope must see, change and write only
their dealers' rows; a session without a scope must not touch dealer data.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import delete, event, func, insert, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from common.enums import Role
from portal import models
from portal.auth import scope_for
from portal.models import (
    Agent,
    AuditLog,
    ChangeFeed,
    Complaint,
    Contact,
    Dealer,
    Enrollment,
    Lead,
    Region,
    RepairOrder,
    RepairPart,
    Sale,
    Survey,
    SyncReceipt,
    SyncRejection,
    User,
)
from portal.models.base import DealerScoped
from portal.services import dashboard
from portal.tenancy import Scope, TenancyError, built_once, set_scope

NOW = dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)
VIN = "LSGJA52U8CH123456"  # sold by every dealer below, so joins on it could leak
RID = uuid.UUID(int=1)  # the same record_id at every dealer: keys are (dealer_id, record_id)


def _rows(dealer_id: int) -> list:
    """One row of each foundation dealer-scoped kind for *dealer_id*."""
    head = {"dealer_id": dealer_id, "record_id": RID, "version": 1, "updated_at": NOW}
    agent = uuid.uuid4()
    return [
        Sale(**head, deal_number=f"S-{dealer_id}", sale_date=NOW.date(), customer_name="张伟",
             customer_phone="13812345678", customer_postcode="200000",
             customer_type="individual", vin=VIN, brand="Buick", model="GL8", model_year=2024,
             salesperson="李娜", price=Decimal("268000")),
        RepairOrder(**head, ro_number=f"RO-{dealer_id}", vin=VIN, opened_at=NOW, odometer_km=1,
                    technician="王强", labor_hours=Decimal(1), amount=Decimal(100)),
        RepairPart(dealer_id=dealer_id, record_id=RID, line=1, part_number="P1", name="滤清器",
                   qty=1),
        Lead(**head, name="赵敏", phone="13812345678", purchase_timeframe="immediate",
             source="walk_in", status="open", created_at=NOW),
        Contact(**head, customer_ref=VIN, channel="call", at=NOW, by="李娜"),
        Complaint(**head, customer_ref=VIN, received_at=NOW, channel="call", category="x",
                  description="x", status="open"),
        Survey(**head, customer_ref=VIN, about="sale", score=5, at=NOW),
        SyncReceipt(dealer_id=dealer_id, record_id=RID, version=1, kind="sale", agent_id=agent,
                    epoch=1, seq=1),
        SyncRejection(dealer_id=dealer_id, agent_id=agent, seq=2, code="phone", message="x"),
        Agent(dealer_id=dealer_id, id=agent, token_hash=uuid.uuid4().hex),
        Enrollment(dealer_id=dealer_id, code_hash=uuid.uuid4().hex, expires_at=NOW),
        AuditLog(dealer_id=dealer_id, action="test", target=str(dealer_id)),
        ChangeFeed(dealer_id=dealer_id, kind="test"),
        User(username=f"u{dealer_id}", password_hash="x", display_name="x",
             role=Role.dealer_staff, dealer_id=dealer_id),
    ]


FOUNDATION_MODELS = sorted({type(row) for row in _rows(0)}, key=lambda cls: cls.__name__)


@pytest.fixture
def dealers(db, make_region, make_dealer) -> dict[str, Dealer]:
    """Dealers A and B in one region and C in another, each with one row of every kind."""
    north, south = make_region(), make_region()
    found = {"A": make_dealer(region=north), "B": make_dealer(region=north),
             "C": make_dealer(region=south)}
    for dealer in found.values():
        db.add_all(_rows(dealer.id))
    db.add(ChangeFeed(dealer_id=None, kind="catalogue"))  # shared: for every dealer
    db.commit()
    return found


@pytest.fixture
def scoped(engine):
    """Open sessions with a given scope (or none); all closed at the end."""
    opened: list[Session] = []

    def open_session(scope: Scope | None) -> Session:
        session = Session(engine, expire_on_commit=False)
        opened.append(set_scope(session, scope) if scope else session)
        return session

    yield open_session
    for session in opened:
        session.close()


def _dealer_ids(session: Session, model) -> set[int | None]:
    return {row.dealer_id for row in session.exec(select(model)).scalars()}


@pytest.mark.parametrize("model", FOUNDATION_MODELS, ids=lambda m: m.__name__)
def test_scoped_select_returns_only_the_dealers_rows(dealers, scoped, model):
    session = scoped(Scope.dealers([dealers["A"].id]))
    expected = {dealers["A"].id} | ({None} if model is ChangeFeed else set())
    assert _dealer_ids(session, model) == expected


def test_every_dealer_scoped_table_is_filtered(dealers, scoped, engine):
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    session = scoped(Scope.dealers([dealers["A"].id]))
    for model in _mapped_dealer_scoped():
        statements.clear()
        session.exec(select(model)).all()
        assert "dealer_id IN" in statements[-1], model.__name__


def _mapped_dealer_scoped() -> list[type]:
    stack, found = list(DealerScoped.__subclasses__()), []
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if "__table__" in vars(cls) and cls.__module__.startswith(models.__name__):
            found.append(cls)
    return found


def test_two_scopes_in_one_process_get_their_own_rows(dealers, scoped):
    # the same statement shape, compiled and cached once, must not keep the first scope's ids
    results = [
        {s.deal_number for s in scoped(Scope.dealers([dealers[name].id])).exec(select(Sale))
         .scalars()}
        for name in ("A", "B", "A", "C")
    ]
    assert results == [{f"S-{dealers[n].id}"} for n in ("A", "B", "A", "C")]


def test_a_statement_built_once_keeps_one_filtered_form_per_scope(dealers, scoped):
    statement, executed = built_once(select(Sale.deal_number)), []

    def remember(state):  # runs after the tenancy layer's listener, registered first
        executed.append(state.statement)

    event.listen(OrmSession, "do_orm_execute", remember)
    try:
        rows = [scoped(Scope.dealers([dealers[name].id])).exec(statement).scalars().all()
                for name in ("A", "B", "A")]
    finally:
        event.remove(OrmSession, "do_orm_execute", remember)
    assert rows == [[f"S-{dealers[name].id}"] for name in ("A", "B", "A")]
    assert executed[0] is executed[2] and executed[0] is not executed[1]


@pytest.mark.parametrize(("ids", "count"), [((), 0), (("A",), 1), (("A", "B", "C"), 3)])
def test_scopes_of_different_sizes_share_no_cache(dealers, scoped, ids, count):
    session = scoped(Scope.dealers([dealers[n].id for n in ids]))
    assert len(session.exec(select(Lead)).all()) == count


def test_region_manager_sees_the_region(db, dealers, scoped, make_user):
    manager = make_user(Role.region_manager, region=db.get(Region, dealers["A"].region_id))
    session = scoped(None)
    session = set_scope(session, scope_for(session, manager))
    assert _dealer_ids(session, Sale) == {dealers["A"].id, dealers["B"].id}


def test_global_scope_sees_every_dealer(dealers, scoped):
    session = scoped(Scope.everything("hq"))
    assert _dealer_ids(session, Sale) == {d.id for d in dealers.values()}


@pytest.mark.parametrize("model", [Sale, User, ChangeFeed, AuditLog], ids=lambda m: m.__name__)
def test_session_without_scope_refuses_dealer_data(dealers, scoped, model):
    with pytest.raises(TenancyError):
        scoped(None).exec(select(model)).all()


@pytest.mark.parametrize(("model", "count"), [(Region, 2), (Dealer, 3)],
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_session_without_scope_reads_shared_tables(dealers, scoped, model, count):
    assert len(scoped(None).exec(select(model)).all()) == count


def test_counts_and_subqueries_are_filtered(dealers, scoped):
    session = scoped(Scope.dealers([dealers["A"].id]))
    assert session.exec(select(func.count()).select_from(Sale)).scalar_one() == 1
    sold = select(Dealer.id).where(Dealer.id.in_(select(Sale.dealer_id)))
    assert session.exec(sold).scalars().all() == [dealers["A"].id]


def test_a_statement_shape_seen_before_is_filtered_again(dealers, scoped):
    # the layer remembers per statement shape whether it names a dealer-scoped table
    def sales() -> int:
        return scoped(Scope.dealers([dealers["A"].id])).exec(
            select(func.count()).select_from(Sale).where(Sale.vin == VIN)).scalar_one()

    assert [sales(), sales()] == [1, 1]
    for _ in range(2):
        with pytest.raises(TenancyError):
            scoped(None).exec(select(func.count()).select_from(Sale).where(Sale.vin == VIN)).all()


def test_one_dashboard_statement_counts_each_table_in_scope(dealers, scoped):
    counts = dashboard.summary(session=scoped(Scope.dealers([dealers["B"].id])),
                               today=NOW.date(), now=NOW)
    assert (counts.sales, counts.repairs, counts.open_leads, counts.open_complaints,
            counts.agents) == (1, 1, 1, 1, 1)


def test_get_of_another_dealers_row_is_none(dealers, scoped):
    session = scoped(Scope.dealers([dealers["A"].id]))
    assert session.get(Sale, (dealers["A"].id, RID)) is not None
    assert session.get(Sale, (dealers["B"].id, RID)) is None
    user_b = scoped(Scope.everything()).exec(select(User).where(User.dealer_id == dealers["B"].id))
    assert session.get(User, user_b.scalars().one().id) is None


def test_join_does_not_leak_the_joined_table(dealers, scoped):
    session = scoped(Scope.dealers([dealers["A"].id]))
    stmt = select(Sale.dealer_id, Contact.dealer_id).join(Contact, Contact.customer_ref == Sale.vin)
    assert session.exec(stmt).all() == [(dealers["A"].id, dealers["A"].id)]


def test_orm_update_and_delete_are_filtered(db, dealers, scoped):
    session = scoped(Scope.dealers([dealers["A"].id]))
    session.execute(update(Sale).values(salesperson="changed"))
    session.execute(delete(Lead))
    session.commit()
    db.expire_all()
    assert {s.dealer_id for s in db.exec(select(Sale).where(Sale.salesperson == "changed"))
            .scalars()} == {dealers["A"].id}
    assert _dealer_ids(db, Lead) == {dealers["B"].id, dealers["C"].id}


def test_adding_a_row_for_another_dealer_raises(dealers, scoped):
    session = scoped(Scope.dealers([dealers["A"].id]))
    session.add(AuditLog(dealer_id=dealers["B"].id, action="test"))
    with pytest.raises(TenancyError):
        session.flush()


def test_moving_a_row_to_another_dealer_raises(dealers, scoped):
    session = scoped(Scope.dealers([dealers["A"].id]))
    lead = session.exec(select(Lead)).scalars().one()
    lead.dealer_id = dealers["B"].id
    with pytest.raises(TenancyError):
        session.flush()


@pytest.mark.parametrize("names", [("B",), ("A", "B")], ids=["values", "multi-values"])
def test_insert_statement_for_another_dealer_raises(dealers, scoped, names):
    rows = [{"dealer_id": dealers[n].id, "action": "t", "target": "", "detail": {}} for n in names]
    session = scoped(Scope.dealers([dealers["A"].id]))
    with pytest.raises(TenancyError):
        session.execute(insert(AuditLog).values(rows if len(rows) > 1 else rows[0]))
    with pytest.raises(TenancyError):
        session.execute(insert(AuditLog), rows)


def test_insert_from_select_is_refused_in_a_dealer_scope(dealers, scoped):
    session = scoped(Scope.dealers([dealers["A"].id]))
    source = select(AuditLog.dealer_id, AuditLog.action)
    with pytest.raises(TenancyError):
        session.execute(insert(AuditLog).from_select(["dealer_id", "action"], source))


def test_shared_change_feed_rows_reach_every_dealer(dealers, scoped):
    for name in ("A", "B", "C"):
        session = scoped(Scope.dealers([dealers[name].id]))
        kinds = {(c.dealer_id, c.kind) for c in session.exec(select(ChangeFeed)).scalars()}
        assert kinds == {(None, "catalogue"), (dealers[name].id, "test")}


def test_another_dealers_object_answers_404(client, db, dealers, make_user, login):
    login(make_user(Role.dealer_manager, dealer=dealers["A"]))
    own, other = (db.exec(select(User).where(User.username == f"u{dealers[n].id}")).scalars()
                  .one() for n in "AB")
    assert client.get(f"/users/{own.id}").status_code == 200
    response = client.get(f"/users/{other.id}")
    assert response.status_code == 404
    assert other.username not in response.text
