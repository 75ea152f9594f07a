"""In Chromium: configure a vehicle, place the order, post factory events, watch the timeline."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect
from sqlmodel import select

from common.enums import Role
from common.validators import vin_check_digit
from portal.models import Brand, CarModel
from portal.services import factory
from portal.services.catalogue_seed import seed_catalogue

pytestmark = pytest.mark.browser
IDLE = "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"


@pytest.fixture
def setup(live_server):
    with live_server.session() as s:
        seed_catalogue(s)
        _row, token = factory.create_token(session=s, name="MES", actor="test")
        s.commit()
        gl8 = s.exec(select(CarModel).where(CarModel.code == "GL8")).one()
        buick = s.get(Brand, gl8.brand_id)
    user = live_server.make_user(Role.dealer_staff, dealer=live_server.make_dealer())
    return {"token": token, "gl8": gl8.id, "buick": buick.id, "user": user}


def pick(page, action) -> None:
    """Do *action* and wait until htmx has swapped in the configurator's answer."""
    with page.expect_response(lambda r: "/configure" in r.url):
        action()
    page.wait_for_function(IDLE)


def configure_and_order(page, setup) -> str:
    page.goto("/orders/new")
    pick(page, lambda: page.select_option("[data-testid=cfg-brand]", str(setup["buick"])))
    pick(page, lambda: page.select_option("[data-testid=cfg-model]", str(setup["gl8"])))
    for testid in ("trim-24C", "colour-black", "option-leather"):
        pick(page, lambda t=testid: page.click(f"[data-testid={t}]"))
    expect(page.locator("[data-testid=cfg-problem]")).to_contain_text("2.4L")
    pick(page, lambda: page.click("[data-testid=alt-set_trim-24L]"))
    expect(page.locator("[data-testid=cfg-valid]")).to_be_visible()
    page.fill("[data-testid=cfg-qty]", "2")
    pick(page, lambda: page.locator("[data-testid=cfg-qty]").dispatch_event("change"))
    expect(page.locator("[data-testid=cfg-total]")).to_contain_text("551,600")
    page.click("[data-testid=add-line]")
    expect(page.locator("[data-testid=order-line]")).to_have_count(1)
    page.click("[data-testid=kind-stock]")
    page.fill("[data-testid=delivery-point]", "浦东展厅")
    page.click("[data-testid=place-order]")
    return page.text_content("[data-testid=order-number]").strip()


def post_events(live_server, token, events) -> list[str]:
    response = requests.post(f"{live_server.url}/api/v1/factory/events", json=events,
                             headers={"Authorization": f"Bearer {token}"}, timeout=10)
    response.raise_for_status()
    return [r["outcome"] for r in response.json()["results"]]


def test_order_then_follow_production(page, login_as, live_server, setup):
    login_as(page, setup["user"])
    number = configure_and_order(page, setup)
    assert page.locator("[data-testid^=vehicle-1-]").count() == 2
    base = {"order_number": number, "line": 1, "unit": 1}
    assert post_events(live_server, setup["token"], [
        {**base, "event_id": "b1", "stage": "scheduled", "at": "2026-03-02T08:00:00+08:00",
         "eta_from": "2026-03-20", "eta_to": "2026-03-24", "reason": "排产完成"}]) == ["applied"]
    page.goto(f"/orders/{number}/vehicles/1/1")
    expect(page.locator("[data-testid=eta-entry]")).to_have_count(1)
    body = "LSGGL8XX0TS123456"
    vin = body[:8] + vin_check_digit(body) + body[9:]
    assert post_events(live_server, setup["token"], [
        {**base, "event_id": "b2", "stage": "body", "at": "2026-03-05T09:00:00+08:00", "vin": vin,
         "eta_from": "2026-03-23", "eta_to": "2026-03-27", "reason": "涂装车间排产紧张"}]) == [
        "applied"]
    expect(page.locator("[data-testid=vin]")).to_have_text(vin, timeout=12_000)  # htmx polling
    expect(page.locator("[data-testid=eta-entry]")).to_have_count(2)
    expect(page.locator("[data-testid=eta-history]")).to_contain_text("涂装车间排产紧张")
    expect(page.locator("[data-testid=tl-body] .when")).not_to_have_text("—")
    page.screenshot(path="/tmp/shot_vehicle_timeline.png", full_page=True)
