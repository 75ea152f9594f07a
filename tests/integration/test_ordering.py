"""Ordering: orders, change and cancel windows, audit, tenancy, tracking, pipeline, catalogue."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from flask import render_template_string
from sqlmodel import Session, select

from common.enums import Role, Stage
from portal.models import (
    AuditLog,
    CarModel,
    CatalogueRule,
    ChangeFeed,
    OrderVehicle,
    VehicleOrder,
)
from portal.orders import stage_badge_tag
from portal.services import orders
from portal.services.catalogue import Selection
from portal.services.catalogue_seed import seed_catalogue
from portal.tenancy import Scope, set_scope

EN = {"Accept-Language": "en"}


@pytest.fixture
def gl8(db) -> int:
    seed_catalogue(db)
    db.commit()
    return db.exec(select(CarModel).where(CarModel.code == "GL8")).one().id


@pytest.fixture
def place(db, gl8):
    def do(dealer, *, trim="24L", options=("leather",), quantity=1, kind="stock"):
        line = orders.LineInput(gl8, trim, "black", frozenset(options), quantity)
        order = orders.create_order(
            session=db, dealer_id=dealer.id, actor=orders.Actor("tester"),
            data=orders.OrderInput(kind=kind, delivery_point="Shanghai store", lines=(line,),
                                   customer_name="王先生"))
        db.commit()
        return order

    return do


def _set_stage(db, order, stage, line=1, unit=1):
    vehicle = db.get(OrderVehicle, (order.dealer_id, order.id, line, unit))
    vehicle.stage = stage
    db.add(vehicle)
    db.commit()


def test_order_numbers_count_per_dealer_and_year(place, make_dealer):
    first, second = make_dealer("SH001"), make_dealer("BJ002")
    numbers = [place(first).number, place(first).number, place(second).number]
    year = dt.date.today().year
    assert numbers == [f"SH001-{year}-00001", f"SH001-{year}-00002", f"BJ002-{year}-00001"]
    assert all(re.fullmatch(r"[A-Z0-9]+-\d{4}-\d{5}", n) for n in numbers)


def test_each_unit_is_a_vehicle_at_ordered(db, place, make_dealer):
    order = place(make_dealer(), quantity=3)
    vehicles = orders.vehicles_of(db, order)
    assert [(v.unit, v.stage) for v in vehicles] == [(u, "ordered") for u in (1, 2, 3)]


def test_server_rejects_an_invalid_configuration(place, make_dealer):
    with pytest.raises(orders.OrderError) as caught:
        place(make_dealer(), trim="24C")
    assert caught.value.problem.render() == "The option Leather seats requires the 2.4L trim."


@pytest.mark.parametrize(("stage", "can_change", "can_cancel"), [
    (Stage.ordered, True, True), (Stage.scheduled, True, True), (Stage.body, False, True),
    (Stage.paint, False, False), (Stage.delivered, False, False), (Stage.cancelled, False, False),
])
def test_windows(stage, can_change, can_cancel):
    assert (orders.can_change(stage), orders.can_cancel(stage)) == (can_change, can_cancel)


@pytest.mark.parametrize(("stage", "allowed"), [(Stage.scheduled, True), (Stage.body, False)])
def test_change_only_before_body(db, place, make_dealer, stage, allowed):
    order = place(make_dealer())
    _set_stage(db, order, stage)
    change = Selection("24L", "white", frozenset())
    if allowed:
        line = orders.change_line(session=db, order=order, line_no=1, selection=change,
                                  actor=orders.Actor("tester"))
        assert (line.colour_code, line.option_codes) == ("white", [])
    else:
        with pytest.raises(orders.OrderError, match="entered body"):
            orders.change_line(session=db, order=order, line_no=1, selection=change,
                               actor=orders.Actor("tester"))


@pytest.mark.parametrize(("stage", "actor", "reason", "ok"), [
    (Stage.body, orders.Actor("dealer"), "", True),
    (Stage.paint, orders.Actor("dealer"), "", False),
    (Stage.paint, orders.Actor("hq", hq=True), "", False),
    (Stage.paint, orders.Actor("hq", hq=True), "customer withdrew", True),
])
def test_cancel_window_and_hq_override(db, place, make_dealer, stage, actor, reason, ok):
    order = place(make_dealer())
    _set_stage(db, order, stage)
    if not ok:
        with pytest.raises(orders.OrderError):
            orders.cancel_vehicle(session=db, order=order, line_no=1, unit=1, actor=actor,
                                  reason=reason)
        return
    orders.cancel_vehicle(session=db, order=order, line_no=1, unit=1, actor=actor, reason=reason)
    db.commit()
    actions = [a.action for a in orders.audit_trail(db, order)]
    assert actions[0] == ("order.override_cancel" if stage == Stage.paint else "order.cancel")


def test_order_page_shows_windows_and_audit_trail(client, db, place, make_dealer, make_user, login):
    dealer = make_dealer()
    order = place(dealer, quantity=2)
    login(make_user(Role.dealer_staff, dealer=dealer))
    client.post(f"/orders/{order.number}/vehicles/1/2/cancel", data={"reason": "customer left"})
    page = client.get(f"/orders/{order.number}", headers=EN).text
    assert "Configuration can change until body" in page
    assert "Vehicle cancelled" in page and "customer left" in page


def test_order_form_creates_an_order(client, db, gl8, make_dealer, make_user, login):
    dealer = make_dealer()
    login(make_user(Role.dealer_staff, dealer=dealer))
    line = json.dumps({"model_id": gl8, "trim": "24L", "colour": "black",
                       "options": ["leather"], "quantity": 2})
    response = client.post("/orders/new", data={"kind": "retail", "customer_name": "李女士",
                                                "delivery_point": "店内", "line": line})
    assert response.status_code == 303
    order = db.exec(select(VehicleOrder)).one()
    assert response.headers["Location"].endswith(order.number)


@pytest.mark.parametrize(("fields", "message"), [
    ({"kind": "retail", "delivery_point": "x"}, "needs the customer"),
    ({"kind": "stock", "delivery_point": ""}, "where the vehicles should be delivered"),
    ({"kind": "stock", "delivery_point": "x", "trim": "24C"}, "requires the 2.4L trim"),
])
def test_order_form_explains_errors(client, gl8, make_dealer, make_user, login, fields, message):
    login(make_user(Role.dealer_staff, dealer=make_dealer()))
    line = json.dumps({"model_id": gl8, "trim": fields.get("trim", "24L"), "colour": "black",
                       "options": ["leather"], "quantity": 1})
    data = {k: v for k, v in fields.items() if k != "trim"}
    response = client.post("/orders/new", data={**data, "line": line}, headers=EN)
    assert response.status_code == 400
    assert message in response.text


def test_configurator_fragment_explains_and_offers_alternatives(client, gl8, make_dealer,
                                                                make_user, login):
    login(make_user(Role.dealer_staff, dealer=make_dealer()))
    query = {"model": gl8, "trim": "24C", "colour": "black", "option": "leather"}
    response = client.get("/configure", query_string=query, headers={**EN, "HX-Request": "true"})
    assert "<html" not in response.text
    assert "The option Leather seats requires the 2.4L trim." in response.text
    assert "alt-set_trim-24L" in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_configurator_applies_an_alternative(client, gl8, make_dealer, make_user, login):
    login(make_user(Role.dealer_staff, dealer=make_dealer()))
    query = {"model": gl8, "trim": "24C", "colour": "black", "option": "leather",
             "apply": "set_trim:24L"}
    page = client.get("/configure", query_string=query, headers={**EN, "HX-Request": "true"}).text
    assert 'data-testid="cfg-valid"' in page and "¥275,800" in page


def test_other_dealer_gets_404(client, place, make_dealer, make_user, login):
    order = place(make_dealer())
    login(make_user(Role.dealer_manager, dealer=make_dealer()))
    assert client.get(f"/orders/{order.number}").status_code == 404
    assert client.post(f"/orders/{order.number}/vehicles/1/1/cancel").status_code == 404
    assert client.get("/tracking", query_string={"q": order.number}).status_code == 200
    assert order.number not in client.get("/orders").text


def test_region_manager_sees_region_orders_read_only(client, place, make_region, make_dealer,
                                                     make_user, login):
    region = make_region()
    order = place(make_dealer(region=region))
    login(make_user(Role.region_manager, region=region))
    assert order.number in client.get("/orders").text
    assert client.post(f"/orders/{order.number}/cancel").status_code == 403


def test_list_filters_and_paginates(db, place, make_dealer):
    dealer = make_dealer()
    first, _second, third = place(dealer), place(dealer), place(dealer, kind="retail")
    _set_stage(db, first, Stage.paint)
    page = orders.list_orders(session=db, filters=orders.OrderFilters(), per_page=2)
    assert (page.total, page.pages, len(page.items)) == (3, 2, 2)
    by_stage = orders.list_orders(session=db, filters=orders.OrderFilters(stage="paint"))
    assert [o.number for o in by_stage.items] == [first.number]
    retail = orders.list_orders(session=db, filters=orders.OrderFilters(kind="retail"))
    assert [o.number for o in retail.items] == [third.number]


def test_list_counts_the_orders_from_any_page(db, place, make_dealer):
    dealer = make_dealer()
    for _ in range(5):
        place(dealer)
    pages = [orders.list_orders(session=db, filters=orders.OrderFilters(), page=n, per_page=2)
             for n in (1, 2, 3, 4)]
    assert [(p.total, len(p.items)) for p in pages] == [(5, 2), (5, 2), (5, 1), (5, 0)]
    none = orders.list_orders(session=db, filters=orders.OrderFilters(kind="retail"))
    assert (none.total, none.items) == (0, [])


def test_order_list_fragment(client, place, make_dealer, make_user, login):
    dealer = make_dealer()
    order = place(dealer)
    login(make_user(Role.dealer_staff, dealer=dealer))
    response = client.get("/orders", query_string={"q": order.number[-5:]},
                          headers={"HX-Request": "true"})
    assert "<html" not in response.text and order.number in response.text


def test_order_list_shows_models_and_vehicles_per_stage(client, db, place, make_dealer,
                                                        make_user, login):
    dealer = make_dealer()
    order = place(dealer, quantity=3, kind="retail")
    _set_stage(db, order, Stage.paint, unit=2)
    orders.cancel_vehicle(session=db, order=order, line_no=1, unit=3, actor=orders.Actor("t"))
    db.commit()
    login(make_user(Role.dealer_staff, dealer=dealer))
    row = re.search(r'<tr data-testid="order-row">.*?</tr>',
                    client.get("/orders", headers=EN).text, re.S)[0]
    assert f">{order.number}</a>" in row and "<td>Retail</td>" in row and "<td>GL8</td>" in row
    assert re.findall(r'<span class="badge stage-(\w+) (\w*)" data-testid="stage">([^<]+)</span>'
                      r"\n×(\d)", row) == [("cancelled", "bad", "Cancelled", "1"),
                                          ("ordered", "", "Ordered", "1"),
                                          ("paint", "", "Paint", "1")]


@pytest.mark.parametrize(("stage", "tone", "locale", "label"), [
    ("delivered", "good", "en", "Delivered to dealer"), ("cancelled", "bad", "en", "Cancelled"),
    ("paint", "", "en", "Paint"), ("paint", "", "zh-CN", "喷漆"),
])
def test_stage_badge_is_the_macros_html(app, stage, tone, locale, label):
    with app.test_request_context(headers={"Accept-Language": locale}):
        assert stage_badge_tag(stage) == \
            f'<span class="badge stage-{stage} {tone}" data-testid="stage">{label}</span>'
        assert render_template_string(
            '{% from "orders/_macros.html" import stage_badge %}{{ stage_badge(s) }}', s=stage
        ) == f"\n{stage_badge_tag(stage)}\n"


def test_stage_badge_escapes_what_it_is_given(app):
    with app.test_request_context(headers=EN):
        badge = stage_badge_tag('"><script>x</script>')
    assert "<script>" not in badge and 'stage-&#34;&gt;&lt;script&gt;' in badge


def test_order_with_vehicles_reads_lines_and_units_in_order_within_scope(db, engine, gl8,
                                                                         make_dealer):
    dealer, other = make_dealer(), make_dealer()
    lines = tuple(orders.LineInput(gl8, "24L", colour, quantity=n)
                  for colour, n in (("black", 2), ("white", 1)))
    order = orders.create_order(session=db, dealer_id=dealer.id, actor=orders.Actor("t"),
                                data=orders.OrderInput(kind="stock", delivery_point="x",
                                                       lines=lines))
    db.commit()
    found, found_lines, vehicles = orders.order_with_vehicles(session=db, number=order.number)
    assert found.id == order.id and [line.line for line in found_lines] == [1, 2]
    assert [(v.line, v.unit) for v in vehicles] == [(1, 1), (1, 2), (2, 1)]
    with set_scope(Session(engine), Scope.dealers([other.id], "other")) as outsider:
        assert orders.order_with_vehicles(session=outsider, number=order.number) is None


def test_status_changes_are_published_to_the_dealer_only(db, place, make_dealer):
    dealer = make_dealer()
    order = place(dealer)
    feed = db.exec(select(ChangeFeed).where(ChangeFeed.kind == "order_status")).all()
    assert [(c.dealer_id, c.payload["order_number"], c.payload["stage"]) for c in feed] == [
        (dealer.id, order.number, "ordered")]


def test_pipeline_counts_and_highlights_stuck(client, db, place, make_dealer, make_user, login):
    order = place(make_dealer(), quantity=2)
    vehicle = db.get(OrderVehicle, (order.dealer_id, order.id, 1, 1))
    vehicle.stage, vehicle.stage_at = "paint", dt.datetime.now(dt.UTC) - dt.timedelta(days=5)
    db.add(vehicle)
    db.commit()
    login(make_user(Role.hq))
    page = client.get("/pipeline", headers=EN).text
    assert page.count('data-testid="stuck-row"') == 1
    assert "GL8" in page


def test_hq_edits_catalogue_with_audit_and_feed(client, db, gl8, make_user, login):
    login(make_user(Role.hq))
    model = client.get(f"/catalogue/models/{gl8}", headers=EN).text
    assert "Leather seats" in model
    trim_id = re.search(r'name="item_id" value="(\d+)"', model).group(1)
    response = client.post(f"/catalogue/models/{gl8}/items/trim", data={
        "item_id": trim_id, "code": "24C", "name_zh": "2.4L 舒适型", "name_en": "2.4L Comfort",
        "price": "235000", "active": "1"})
    assert response.status_code == 303
    assert db.exec(select(AuditLog).where(AuditLog.action == "catalogue.trim.save")).one()
    latest = db.exec(select(ChangeFeed).where(ChangeFeed.kind == "catalogue")
                     .order_by(ChangeFeed.id.desc())).first()
    assert latest.dealer_id is None and latest.payload["trims"][0]["price"] == "235000.00"


@pytest.mark.parametrize(("form", "message"), [
    ({"code": "x y", "name_zh": "a", "name_en": "b", "price": "1"}, "The code uses letters"),
    ({"code": "ok", "name_zh": "a", "name_en": "b", "price": "-5"}, "The price must be"),
    ({"code": "ok", "name_zh": "", "name_en": "b", "price": "1"}, "both the Chinese"),
])
def test_catalogue_edit_is_validated(client, gl8, make_user, login, form, message):
    login(make_user(Role.hq))
    response = client.post(f"/catalogue/models/{gl8}/items/option", data=form,
                           follow_redirects=True, headers=EN)
    assert message in response.text


def test_catalogue_editing_is_hq_only(client, gl8, make_dealer, make_user, login):
    login(make_user(Role.dealer_manager, dealer=make_dealer()))
    assert client.get(f"/catalogue/models/{gl8}").status_code == 403


def test_seed_catalogue_is_idempotent(db, gl8):
    assert seed_catalogue(db) == 0
    brands = {m.brand_id for m in db.exec(select(CarModel))}
    assert len(brands) == 4 and len(db.exec(select(CarModel)).all()) == 13


def test_add_line_fragment_explains_an_invalid_configuration(client, gl8, make_dealer,
                                                             make_user, login):
    login(make_user(Role.dealer_staff, dealer=make_dealer()))
    form = {"model": gl8, "trim": "24C", "colour": "black", "option": "leather", "qty": "1"}
    response = client.post("/orders/new/lines", data=form, headers={**EN, "HX-Request": "true"})
    assert "<html" not in response.text
    assert "requires the 2.4L trim" in response.text and 'name="line"' not in response.text


def test_change_page_saves_a_new_configuration(client, db, place, make_dealer, make_user, login):
    dealer = make_dealer()
    order = place(dealer)
    login(make_user(Role.dealer_staff, dealer=dealer))
    assert "Leather seats" in client.get(f"/orders/{order.number}/lines/1/change",
                                         headers=EN).text
    response = client.post(f"/orders/{order.number}/lines/1/change",
                           data={"model": orders.lines_of(db, order)[0].model_id, "fixed": "1",
                                 "trim": "24L", "colour": "white"})
    assert response.status_code == 303
    assert [a.action for a in orders.audit_trail(db, order)][0] == "order.change"


def test_hq_adds_and_deactivates_a_rule(client, db, gl8, make_user, login):
    login(make_user(Role.hq))
    client.post(f"/catalogue/models/{gl8}/rules", data={
        "kind": "excludes", "subject": "option:sunroof", "target": "option:roof_rack"})
    rule = db.exec(select(CatalogueRule).where(CatalogueRule.model_id == gl8,
                                               CatalogueRule.subject == "option:sunroof")).one()
    client.post(f"/catalogue/rules/{rule.id}/active", data={"active": "0"})
    db.expire_all()
    assert db.get(CatalogueRule, rule.id).active is False
