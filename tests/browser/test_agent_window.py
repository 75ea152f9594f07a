"""The agent's local UI in headless Chromium: entry and its messages, import preview, quarantine.

The UI runs as in the window (CSRF on, served on 127.0.0.1 by the agent's own server); the
screenshots land in /tmp/window_*.png for the README.
"""

from __future__ import annotations

import re

import pytest

from common.protocol import ItemResult, Outcome
from sync_agent.ui.server import LocalServer
from tests.unit.agent_fakes import VIN, FakePortal, lead, sale
from tests.unit.agent_ui_fakes import (
    BAD_VIN,
    SALES_CSV,
    make_agent,
    make_ui,
)

pytestmark = pytest.mark.browser
SHOTS = "/tmp/window_{}.png"


@pytest.fixture
def agent(tmp_path):
    local = make_agent(tmp_path / "agent")
    yield local
    local.close()


def serve(agent):
    return LocalServer(make_ui(agent, WTF_CSRF_ENABLED=True, TESTING=False)).start()


@pytest.fixture
def ui(browser, agent):
    """A page of the agent's UI in Chromium, at the window's size."""
    server = serve(agent)
    context = browser.new_context(base_url=server.url, locale="zh-CN",
                                  viewport={"width": 1180, "height": 820})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()
    server.stop()


def fill_sale(ui, vin: str) -> None:
    values = {"deal_number": "S-100", "sale_date": "2024-03-01", "salesperson": "李娜",
              "price": "268000", "customer.name": "张伟", "customer.phone": "13812345678",
              "customer.postcode": "200000", "vehicle.vin": vin, "vehicle.brand": "别克",
              "vehicle.model": "GL8", "vehicle.model_year": "2024"}
    for name, value in values.items():
        ui.fill(f"[name='{name}']", value)


def test_a_sale_with_a_mistyped_vin_is_explained_then_saved(ui, agent):
    ui.goto("/records/new/sale")
    fill_sale(ui, BAD_VIN)
    ui.fill("[name='customer.phone']", "1381234567")
    ui.click("[data-testid=save]")
    vin_error = ui.locator("[data-testid='error-vehicle.vin']")
    assert "第 9 位" in vin_error.inner_text() and "应为“8”" in vin_error.inner_text()
    assert "手机号为 11 位数字" in ui.inner_text("[data-testid='error-customer.phone']")
    ui.screenshot(path=SHOTS.format("entry_errors"), full_page=True)
    ui.fill("[name='vehicle.vin']", VIN)
    ui.fill("[name='customer.phone']", "13812345678")
    ui.click("[data-testid=save]")
    assert "已保存（版本 1）" in ui.inner_text("[data-testid=flash]")
    assert agent.store.pending_count() == 1


def test_repair_order_part_lines_are_added_and_removed(ui, agent):
    ui.goto("/records/new/repair_order")
    for name, value in {"ro_number": "RO-7", "vin": VIN, "opened_at": "2024-03-01T09:30",
                        "odometer_km": "12000", "technician": "王强"}.items():
        ui.fill(f"[name='{name}']", value)
    ui.click("[data-testid=add-part]")
    ui.click("[data-testid=add-part]")
    ui.locator(".part-line").nth(1).locator("[data-testid=remove-part]").click()
    lines = [("24105735", "机油滤清器", "1"), ("P-2", "刹车片", "4")]
    for n, (number, name, qty) in enumerate(lines):
        row = ui.locator(".part-line").nth(n)
        row.locator("[name=part_part_number]").fill(number)
        row.locator("[name=part_name]").fill(name)
        row.locator("[name=part_qty]").fill(qty)
    ui.click("[data-testid=save]")
    ui.wait_for_selector("[data-testid=flash]")
    assert [p["name"] for p in agent.store.list_records("repair_order")[0].payload["parts"]] \
        == ["机油滤清器", "刹车片"]


def test_import_preview_then_import_keeps_the_bad_row(ui, agent, tmp_path):
    export = tmp_path / "销售导出.csv"
    export.write_bytes(SALES_CSV.encode("gb18030"))
    ui.goto("/import/")
    ui.set_input_files("[data-testid=file]", str(export))
    ui.fill("[data-testid=source]", "DMS 销售导出")
    ui.click("[data-testid=upload]")
    assert ui.locator("select[data-header='车架号']").input_value() == "vehicle.vin"
    ui.screenshot(path=SHOTS.format("import_columns"), full_page=True)
    ui.click("[data-testid=preview]")
    summary = ui.locator("[data-testid=preview-summary]")
    assert summary.get_attribute("data-bad") == "1"
    assert "VIN 校验位" in ui.inner_text("tr[data-line='3'] [data-testid=row-errors]")
    ui.screenshot(path=SHOTS.format("import_preview"), full_page=True)
    ui.click("[data-testid=run-import]")
    ui.wait_for_selector("[data-testid=import-progress][data-running=false]")
    assert ui.inner_text("[data-testid=count-quarantined]") == "1"
    assert agent.store.count_records("sale") == 1 and agent.store.quarantine_count() == 1


def reject(agent, record) -> None:
    [entry] = [e for e in agent.store.outbox() if e.record_id == record.record_id]
    agent.store.apply_results([ItemResult(
        seq=entry.seq, record_id=entry.record_id, outcome=Outcome.rejected, code="unknown_model",
        message="The portal's catalogue has no model 'GL9'.", field="vehicle.model")])


def test_quarantine_replay_and_discard(ui, agent):
    reject(agent, agent.store.save_record("sale", sale("S-7")))
    reject(agent, agent.store.save_record("lead", lead()))
    ui.goto("/quarantine/")
    assert "no model 'GL9'" in ui.inner_text("tr:has-text('S-7') [data-testid=reasons]")
    ui.screenshot(path=SHOTS.format("quarantine"), full_page=True)
    ui.locator("tr:has-text('S-7') [data-testid=replay]").click()
    assert "已重新排队" in ui.inner_text("[data-testid=flash]")
    ui.click("[data-testid=discard]")
    ui.click("[data-testid=confirm-discard-button]")
    ui.wait_for_selector("[data-testid=quarantine-empty]")
    assert agent.store.quarantine_count() == 0
    assert [e.record_id for e in agent.store.outbox()] == [agent.store.find_record(
        "sale", "S-7").record_id]


def test_the_status_is_live(browser, tmp_path):
    portal = FakePortal()
    local = make_agent(tmp_path / "synced", portal=portal, sync=True)
    server = serve(local)
    context = browser.new_context(base_url=server.url, locale="zh-CN",
                                  viewport={"width": 1180, "height": 820})
    try:
        ui = context.new_page()
        ui.goto("/")
        ui.wait_for_selector("[data-testid=status][data-state=online]")
        local.store.save_record("lead", lead("赵敏"))  # saved elsewhere (e.g. an import)
        ui.wait_for_selector("[data-testid=status][data-pending='1']", timeout=5000)
        ui.click("[data-testid=sync-now]")
        ui.wait_for_selector("[data-testid=sync-progress][data-done=true]")
        assert ui.inner_text("[data-testid=pending-count]") == "0"
        ui.screenshot(path=SHOTS.format("status"), full_page=True)
    finally:
        context.close()
        server.stop()
        local.close()


def test_follow_ups_and_orders_offline(ui, agent):
    agent.store.save_record("sale", sale("S-1", sale_date="2020-01-05"))
    agent.store.apply_pull_page([
        {"id": n, "kind": "order_status", "payload": {
            "order_number": "DO-2024-0042", "line": 1, "unit": 1, "vin": VIN, "stage": stage,
            "at": f"2024-03-0{n}T08:00:00+00:00", "eta_from": "2024-03-20", "eta_to": "2024-03-25"}}
        for n, stage in enumerate(["ordered", "scheduled", "body", "paint"], 1)], 4)
    ui.goto("/orders")
    assert ui.inner_text("[data-testid=current-stage]") == "喷漆"
    ui.screenshot(path=SHOTS.format("orders"), full_page=True)
    ui.goto("/followups")
    ui.screenshot(path=SHOTS.format("followups"), full_page=True)
    ui.click(f"tr[data-vin='{VIN}'] [data-testid=log-contact]")
    ui.wait_for_selector("[data-testid=no-followups]")
    assert agent.store.count_records("contact") == 1


def test_enrolment_page_explains_a_bad_address(browser, tmp_path):
    from sync_agent.ui.context import LocalAgent

    local = LocalAgent(tmp_path / "new", sync=False)
    server = serve(local)
    context = browser.new_context(base_url=server.url, locale="zh-CN",
                                  viewport={"width": 1180, "height": 820})
    try:
        ui = context.new_page()
        ui.goto("/")
        ui.fill("[name=portal]", "portal.example.com")
        ui.fill("[name=code]", "K7Q2-9XWD")
        ui.click("button[type=submit].primary")
        assert re.search("这不是网址", ui.inner_text("[data-testid=error-portal]"))
        ui.screenshot(path=SHOTS.format("enrol"), full_page=True)
    finally:
        context.close()
        server.stop()
        local.close()
