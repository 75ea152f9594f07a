"""The factory feed API: token auth, idempotency, ordering, VIN at body, ETA history."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from common.enums import Role
from common.validators import vin_check_digit
from portal.models import (
    CarModel,
    ChangeFeed,
    EtaHistory,
    FactoryToken,
    OrderVehicle,
    StageHistory,
)
from portal.services import factory, orders
from portal.services.catalogue_seed import seed_catalogue

URL = "/api/v1/factory/events"
AT = "2026-03-02T08:00:00+08:00"


def make_vin(serial: str = "000001") -> str:
    body = f"LSGGL8XX0TS{serial}"
    return body[:8] + vin_check_digit(body) + body[9:]


@pytest.fixture
def order(db, make_dealer):
    seed_catalogue(db)
    gl8 = db.exec(select(CarModel).where(CarModel.code == "GL8")).one().id
    line = orders.LineInput(gl8, "24L", "black", frozenset(), 2)
    placed = orders.create_order(session=db, dealer_id=make_dealer().id, actor=orders.Actor("t"),
                                 data=orders.OrderInput(kind="stock", delivery_point="store",
                                                        lines=(line,)))
    db.commit()
    return placed


@pytest.fixture
def token(db) -> str:
    _row, raw = factory.create_token(session=db, name="MES", actor="hq")
    db.commit()
    return raw


@pytest.fixture
def post(client, token):
    def do(body, raw=None):
        return client.post(URL, json=body, headers={"Authorization": f"Bearer {raw or token}"})

    return do


def event(order, event_id, stage, **extra):
    return {"event_id": event_id, "order_number": order.number, "line": 1, "unit": 1,
            "stage": stage, "at": AT, **extra}


def vehicle(db, order, unit=1):
    db.expire_all()
    return db.get(OrderVehicle, (order.dealer_id, order.id, 1, unit))


def outcomes(response):
    return [(r["outcome"], r["code"]) for r in response.json["results"]]


def test_missing_token_is_401(client, order):
    response = client.post(URL, json=event(order, "e1", "scheduled"))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_revoked_token_is_401(db, post, token, order):
    stored = db.exec(select(FactoryToken)).one()
    factory.revoke_token(session=db, token_id=stored.id)
    db.commit()
    response = post(event(order, "e1", "scheduled"))
    assert (response.status_code, response.json["error"]["code"]) == (401, "token_revoked")


def test_token_is_stored_hashed(db, token):
    stored = db.exec(select(FactoryToken)).one()
    assert stored.token_hash == factory.hash_token(token) and token not in stored.token_hash


def test_event_is_idempotent(db, post, order):
    body = event(order, "e1", "scheduled")
    assert outcomes(post(body)) == [("applied", None)]
    assert outcomes(post(body)) == [("duplicate", None)]
    assert vehicle(db, order).stage == "scheduled"


def test_late_event_never_moves_backwards(db, post, order):
    post(event(order, "e2", "paint", vin=make_vin()))
    assert outcomes(post(event(order, "e1", "body"))) == [("ignored_out_of_order", "out_of_order")]
    assert vehicle(db, order).stage == "paint"
    history = db.exec(select(StageHistory).where(StageHistory.event_id == "e1")).one()
    assert history.applied is False


@pytest.mark.parametrize(("extra", "code"), [
    ({}, "vin_required"),
    ({"vin": "LSGGL8XX0TS000001"}, "vin_check_digit"),
    ({"vin": "SHORT"}, "vin_length"),
])
def test_body_needs_a_valid_vin(db, post, order, extra, code):
    assert outcomes(post(event(order, "e1", "body", **extra))) == [("rejected", code)]
    assert vehicle(db, order).stage == "ordered"


def test_vin_is_assigned_at_body_and_published(db, post, order):
    assert outcomes(post(event(order, "e1", "body", vin=make_vin().lower()))) == [
        ("applied", None)]
    assert vehicle(db, order).vin == make_vin()
    feed = db.exec(select(ChangeFeed).where(ChangeFeed.kind == "order_status")
                   .order_by(ChangeFeed.id.desc())).first()
    assert feed.dealer_id == order.dealer_id
    assert (feed.payload["stage"], feed.payload["vin"], feed.payload["unit"]) == (
        "body", make_vin(), 1)


@pytest.mark.parametrize(("first", "second", "code"), [
    ({"stage": "scheduled", "vin": make_vin()}, None, "vin_before_body"),
    ({"stage": "body", "vin": make_vin()}, {"stage": "paint", "vin": make_vin("000002")},
     "vin_mismatch"),
])
def test_vin_rules(post, order, first, second, code):
    result = post(event(order, "e1", **first))
    if second:
        result = post(event(order, "e2", **second))
    assert outcomes(result) == [("rejected", code)]


def test_vin_cannot_be_reused_on_another_vehicle(post, order):
    post(event(order, "e1", "body", vin=make_vin()))
    response = post({**event(order, "e2", "body", vin=make_vin()), "unit": 2})
    assert outcomes(response) == [("rejected", "vin_taken")]


def test_eta_history_records_each_move_with_its_reason(db, post, order):
    post(event(order, "e1", "scheduled", eta_from="2026-03-20", eta_to="2026-03-24",
               reason="scheduled"))
    post({"event_id": "e2", "order_number": order.number, "line": 1, "eta_from": "2026-03-25",
          "eta_to": "2026-03-29", "reason": "paint shop backlog", "at": AT})
    history = db.exec(select(EtaHistory).order_by(EtaHistory.at, EtaHistory.eta_from)).all()
    assert [(h.eta_from.day, h.reason) for h in history] == [(20, "scheduled"),
                                                           (25, "paint shop backlog")]
    assert (vehicle(db, order).eta_to, vehicle(db, order).stage) == (dt.date(2026, 3, 29),
                                                                     "scheduled")


def test_bad_events_are_rejected_alone(db, post, order):
    batch = [event(order, "ok1", "scheduled"), {"event_id": "bad", "line": "x"},
             event(order, "bad2", "cancelled"), {**event(order, "ok2", "scheduled"), "unit": 2},
             {**event(order, "bad3", "scheduled"), "order_number": "NOPE-1"}, 42]
    assert [o for o, _c in outcomes(post(batch))] == [
        "applied", "rejected", "rejected", "applied", "rejected", "rejected"]
    assert [vehicle(db, order, u).stage for u in (1, 2)] == ["scheduled", "scheduled"]


@pytest.mark.parametrize("body", ["not json", None, 7, {"event_id": ""}, [[]], {"at": "x"}])
def test_bad_input_never_500(client, token, body):
    response = client.post(URL, data=body if isinstance(body, str) else None,
                           json=None if isinstance(body, str) else body,
                           headers={"Authorization": f"Bearer {token}",
                                    "Content-Type": "application/json"})
    assert response.status_code in (200, 400)
    assert response.is_json


def test_cancelled_vehicle_refuses_events(db, post, order):
    orders.cancel_vehicle(session=db, order=order, line_no=1, unit=1, actor=orders.Actor("t"))
    db.commit()
    assert outcomes(post(event(order, "e1", "scheduled"))) == [("rejected", "vehicle_cancelled")]


def test_dealer_sees_only_own_status_changes(db, post, order, make_dealer):
    other = make_dealer()
    post(event(order, "e1", "scheduled"))
    dealers = {c.dealer_id for c in db.exec(select(ChangeFeed).where(
        ChangeFeed.kind == "order_status"))}
    assert dealers == {order.dealer_id} and other.id not in dealers


def test_openapi_documents_the_feed(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/factory/events"]["post"]
    assert operation["security"] == [{"factoryToken": []}]
    assert "unit" in spec["components"]["schemas"]["FactoryEvent"]["properties"]


def test_simulator_drives_orders_to_delivery(db, order):
    now = dt.datetime.now(dt.UTC)
    for step in range(9):
        factory.simulate_tick(session=db, speed=1e9, now=now + dt.timedelta(seconds=step))
        db.commit()
    cars = [vehicle(db, order, u) for u in (1, 2)]
    assert [c.stage for c in cars] == ["delivered", "delivered"]
    assert all(c.vin and c.eta_from for c in cars)


def test_hq_manages_tokens_on_a_page(client, db, make_user, login):
    login(make_user(Role.hq))
    page = client.post("/factory/tokens", data={"name": "Jinqiao MES"}).text
    stored = db.exec(select(FactoryToken)).one()
    assert stored.hint in page and "fct_" in page
    client.post(f"/factory/tokens/{stored.id}/revoke")
    db.expire_all()
    assert db.get(FactoryToken, stored.id).revoked_at is not None


def _cli(app, *args):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from portal.cli import main

    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


def test_simulate_factory_command_moves_orders(app, db, order):
    result = _cli(app, "simulate-factory", "--once", "--speed", "1e9")
    assert result.exit_code == 0, result.output
    assert "2 vehicles moved on" in result.output
    assert vehicle(db, order).stage == "scheduled"


def test_seed_catalogue_command_is_idempotent(app, order):
    result = _cli(app, "seed-catalogue")
    assert (result.exit_code, result.output.strip()) == (0, "catalogue seeded: 0 rows added")
