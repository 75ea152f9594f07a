"""CRM pages in headless Chromium: vehicle and customer 360, the lead list and the task list."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from common.enums import Role
from portal.models import Lead, RepairOrder, RepairPart, Sale
from tests.integration.crm_factories import make_vin

pytestmark = pytest.mark.browser
TODAY = dt.datetime.now(dt.UTC).date()


def _sale(dealer, vin: str, name: str, phone: str, days_ago: int, salesperson="李娜") -> Sale:
    return Sale(dealer_id=dealer.id, record_id=uuid.uuid4(), version=1,
                updated_at=dt.datetime.now(dt.UTC), deal_number=f"D-{uuid.uuid4().hex[:8]}",
                sale_date=TODAY - dt.timedelta(days=days_ago), customer_name=name,
                customer_phone=phone, customer_postcode="200000", customer_type="individual",
                vin=vin, brand="Buick", model="GL8", model_year=2024, salesperson=salesperson,
                price=Decimal("268000"))


def _repair(dealer, vin: str, technician: str) -> list:
    order = RepairOrder(dealer_id=dealer.id, record_id=uuid.uuid4(), version=1,
                        updated_at=dt.datetime.now(dt.UTC), ro_number=f"RO-{uuid.uuid4().hex[:6]}",
                        vin=vin, opened_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=5),
                        odometer_km=8800, work_performed="更换刹车片", technician=technician,
                        labor_hours=Decimal(2), amount=Decimal(900), parts_count=1)
    part = RepairPart(dealer_id=dealer.id, record_id=order.record_id, line=1,
                      part_number="BRK-01", name="刹车片", qty=2)
    return [order, part]


def _lead(dealer, name: str, timeframe: str, salesperson: str = "李娜") -> Lead:
    now = dt.datetime.now(dt.UTC)
    return Lead(dealer_id=dealer.id, record_id=uuid.uuid4(), version=1, updated_at=now,
                name=name, phone="13700001111", interested_model="GL8",
                purchase_timeframe=timeframe, source="walk_in", salesperson=salesperson,
                status="open", created_at=now - dt.timedelta(days=2))


@pytest.fixture
def arranged(live_server):
    seller, station = live_server.make_dealer(), live_server.make_dealer("虹桥服务站", "Hongqiao")
    vin = make_vin()
    with live_server.session() as s:
        s.add(_sale(seller, vin, "林晓", "13912340000", days_ago=45))
        s.add(_sale(station, make_vin(), "外店客户", "13912349999", days_ago=45))
        s.flush()
        s.add_all(_repair(station, vin, "陈师傅"))
        s.add_all([_lead(seller, "立即客户", "immediate"),
                   _lead(seller, "一年客户", "within_1_year"),
                   _lead(station, "外店线索", "immediate")])
        s.commit()
    return live_server.make_user(Role.dealer_manager, dealer=seller), vin


def test_vehicle_360_shows_repair_at_another_station(page, login_as, arranged):
    manager, vin = arranged
    login_as(page, manager)
    page.goto("/customers/vehicles")
    page.fill("[data-testid=vin-lookup]", vin)
    page.press("[data-testid=vin-lookup]", "Enter")
    page.wait_for_selector("[data-testid=timeline]")
    assert page.locator("[data-testid=event-sale]").count() == 1
    assert page.text_content("[data-testid=station]") == "虹桥服务站"
    assert "刹车片 × 2" in page.text_content("[data-testid=parts]")
    page.screenshot(path="/tmp/crm_shots/vehicle_360.png", full_page=True)


def test_customer_360_from_search(page, login_as, arranged):
    manager, vin = arranged
    login_as(page, manager)
    page.goto("/customers/")
    page.fill("[data-testid=search]", "林晓")
    page.wait_for_function("!document.querySelector('[data-testid=customers]')"
                           ".innerText.includes('外店客户')")
    page.click("text=林晓")
    page.wait_for_selector("[data-testid=customer-title]")
    assert vin in page.text_content("[data-testid=customer-vehicles]")


def test_lead_list_filters_with_htmx_and_shows_handling(page, login_as, arranged):
    manager, _ = arranged
    login_as(page, manager)
    page.goto("/leads/")
    assert page.locator("[data-testid=lead-row]").count() == 2  # not the other dealer's
    page.select_option("[data-testid=filter-timeframe]", "within_1_year")
    page.wait_for_function("document.querySelectorAll('[data-testid=lead-row]').length === 1")
    assert "一年客户" in page.text_content("[data-testid=leads]")
    assert "timeframe=within_1_year" in page.url  # htmx pushed the filter into the address
    assert "4.0 %" in page.text_content("[data-testid=conversion-within_1_year]")
    page.screenshot(path="/tmp/crm_shots/leads.png", full_page=True)


def test_task_list_shows_overdue_first_contact(page, login_as, arranged):
    manager, _ = arranged
    login_as(page, manager)
    page.goto("/follow-ups/")
    row = page.locator("[data-testid=task-row]")
    assert row.count() == 1 and "林晓" in row.text_content()
    page.select_option("[data-testid=filter-state]", "upcoming")
    page.wait_for_function("document.querySelectorAll('[data-testid=task-row]').length === 0")
    page.screenshot(path="/tmp/crm_shots/tasks.png", full_page=True)
