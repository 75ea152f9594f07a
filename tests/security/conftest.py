"""A small two-dealer, two-region world for the security suites, arranged once per backend.

Dealer A (region RA) is the owner of everything the isolation matrix looks for; dealer B
(region RB) is the competitor whose users and agent try to reach it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from common.enums import Role
from portal.models import CarModel, Dealer, Region, User
from portal.services import agents, crm_corrections, exports, factory, orders
from portal.services.catalogue_seed import seed_catalogue
from portal.tenancy import Scope, set_scope
from tests.conftest import PASSWORD, _pg_admin, _pg_admin_url, _pg_url, make_test_app
from tests.integration import sync_factories as wire
from tests.integration.crm_factories import make_vin
from tests.integration.sync_factories import EnrolledAgent, make_agent, push  # noqa: F401

CALLER_ROLES = {"a_staff": Role.dealer_staff, "a_manager": Role.dealer_manager,
                "ra_manager": Role.region_manager, "b_staff": Role.dealer_staff,
                "b_manager": Role.dealer_manager, "rb_manager": Role.region_manager,
                "hq": Role.hq}


@dataclass
class World:
    app: Flask
    dealers: dict[str, Dealer]
    users: dict[str, User]
    agents: dict[str, EnrolledAgent]
    a: dict[str, str] = field(default_factory=dict)  # the owner's sample values, by name
    secrets: list[str] = field(default_factory=list)  # values no other dealer may ever see
    clients: dict[str, FlaskClient] = field(default_factory=dict)

    def client(self, caller: str) -> FlaskClient:
        """A test client logged in as *caller* (cached), or anonymous for 'anonymous'."""
        if caller not in self.clients:
            client = self.app.test_client()
            if caller != "anonymous":
                response = client.post("/login", data={"username": self.users[caller].username,
                                                       "password": PASSWORD})
                assert response.status_code == 302, response.text
            self.clients[caller] = client
        return self.clients[caller]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world_url(request, tmp_path_factory):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("world") / "portal.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template, admin = request.getfixturevalue("pg_template"), _pg_admin_url()
    name = f"dp_world_{os.getpid()}_{request.module.__name__.rpartition('.')[2]}"
    _pg_admin(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _pg_admin(admin, f"CREATE DATABASE {name} TEMPLATE {template}")
    yield _pg_url(admin, name)
    _pg_admin(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def world(world_url, tmp_path_factory) -> World:
    app = make_test_app(world_url, tmp_path_factory.mktemp("data"))
    engine = app.extensions["db_engine"]
    with set_scope(Session(engine, expire_on_commit=False), Scope.everything("test")) as db:
        world = _arrange(app, db)
    yield world
    engine.dispose()


def _arrange(app: Flask, db: Session) -> World:
    regions = {c: Region(code=c, name_zh=f"{c}区", name_en=f"Region {c}") for c in ("RA", "RB")}
    db.add_all(regions.values())
    db.flush()
    dealers = {k: Dealer(code=f"SEC{k}9", name_zh=f"机密{k}经销商", name_en=f"Secret {k} Motors",
                         region_id=regions[f"R{k}"].id, city_zh="上海", city_en="Shanghai")
               for k in ("A", "B")}
    db.add_all(dealers.values())
    seed_catalogue(db)
    db.commit()
    users = {name: _user(db, name, role, dealers, regions) for name, role in CALLER_ROLES.items()}
    world = World(app, dealers, users, {k: _agent(db, dealers[k]) for k in ("A", "B")})
    _push_records(world)
    _owner_objects(world, db)
    return world


def _user(db: Session, name: str, role: Role, dealers, regions) -> User:
    from portal.services.users import create_user

    side = name[0].upper() if name[0] in "ab" else name[1].upper()
    user = create_user(session=db, username=f"sec_{name}", password=PASSWORD, role=role,
                       display_name=f"Secret {name}",
                       dealer_code=dealers[side].code if role.value.startswith("dealer") else None,
                       region_code=f"R{side}" if role == Role.region_manager else None)
    db.commit()
    return user


def _agent(db: Session, dealer: Dealer) -> EnrolledAgent:
    issued = agents.issue_enrollment(session=db, dealer=dealer, actor="test")
    enrolled = agents.enroll(session=db, code=issued.code, agent_name=f"desk-{dealer.code}",
                             agent_version="1.0.0")
    db.commit()
    return EnrolledAgent(enrolled.agent, enrolled.token, dealer)


def _push_records(world: World) -> None:
    """Both dealers sync records through the real API; A's carry the values looked for."""
    for side, tag in (("A", "55"), ("B", "66")):
        enrolled, code, vin = world.agents[side], world.dealers[side].code, make_vin()
        customer = {"name": f"欧阳{side}娜", "phone": f"139{tag}501234", "postcode": "200000",
                    "customer_type": "individual"}
        records = [
            wire.sale(code, deal_number=f"DEAL-{side}-7731", customer=customer,
                      vehicle={"vin": vin, "brand": "Buick", "model": "GL8", "model_year": 2024}),
            wire.repair_order(code, ro_number=f"RO-{side}-8842", vin=vin),
            wire.lead(code, name=f"司马{side}明", phone=f"139{tag}505678"),
            wire.contact(code, customer_ref=vin),
            wire.complaint(code, customer_ref=vin, description=f"投诉{side}内容"),
            wire.survey(code, customer_ref=vin, score=2),
        ]
        response = world.app.test_client().post(
            "/api/v1/sync/push", json=wire.push_body(enrolled, records), headers=enrolled.headers)
        assert [r["outcome"] for r in response.json["results"]] == ["applied"] * 6, response.json
        if side == "A":
            world.a.update(vin=vin, phone=customer["phone"], sale_id=records[0]["record_id"])
            world.secrets += [vin, customer["phone"], customer["name"], "DEAL-A-7731",
                              "RO-A-8842", "司马A明", "13955505678", "投诉A内容",
                              *(r["record_id"] for r in records)]


def _owner_objects(world: World, db: Session) -> None:
    """An order, a correction, an export and the logins and agent of dealer A."""
    a, dealer = world.a, world.dealers["A"]
    gl8 = db.exec(select(CarModel).where(CarModel.code == "GL8")).one().id
    line = orders.LineInput(gl8, "24L", "black", frozenset({"leather"}), 1)
    order = orders.create_order(session=db, dealer_id=dealer.id, actor=orders.Actor("tester"),
                                data=orders.OrderInput(kind="retail", delivery_point="门店",
                                                       lines=(line,), customer_name="欧阳A娜"))
    record = crm_corrections.get_record(session=db, kind="sale", record_id=uuid.UUID(a["sale_id"]))
    correction = crm_corrections.correct(session=db, kind="sale", record=record,
                                         field="salesperson", value="保密A员",
                                         user=world.users["a_manager"])
    export = exports.request_export(db, user=world.users["a_manager"], table_name="scorecard",
                                    fmt="csv", params={"dealer": str(dealer.id),
                                                         "month": "2024-03"})
    token, _raw = factory.create_token(session=db, name="line-1", actor="test")
    db.commit()
    exports.run(db.get_bind(), export.id, Scope.dealers([dealer.id]), world.app.config["DATA_DIR"],
                "en")
    a.update(order=order.number, correction=str(correction.id), export=str(export.id),
             agent=str(world.agents["A"].agent.id), user=str(world.users["a_staff"].id),
             factory_token=str(token.id), dealer=dealer.code)
    world.secrets += [order.number, a["correction"], a["export"], a["agent"], "保密A员",
                      world.users["a_staff"].username, world.users["a_manager"].username,
                      dealer.code, dealer.name_zh, dealer.name_en]


@pytest.fixture
def db_for():
    """A session seeing every dealer, on the database of a given app."""

    def make(app: Flask) -> Session:
        return set_scope(Session(app.extensions["db_engine"], expire_on_commit=False),
                         Scope.everything("test"))

    return make
