"""The scorecard, an HQ rollup drill-down and a background export in headless Chromium."""

from __future__ import annotations

import pytest

from common.enums import Role
from portal.services import metrics
from tests import metrics_records as rec
from tests.metrics_records import NOW, at

pytestmark = pytest.mark.browser
SHOTS = "/tmp/shot_metrics_{}.png"


@pytest.fixture(scope="module")
def world(live_server):
    """One dealer with March records (a survey below 5 to fix), aggregates computed at NOW."""
    live_server.app.config["METRICS_NOW"] = NOW
    dealer = live_server.make_dealer(name_zh="上海浦东别克4S店", name_en="Shanghai Pudong Buick")
    with live_server.session() as db:
        for day in ("2024-03-02", "2024-03-04"):
            sale = rec.sale(db, dealer, day, brand="别克", model="君越")
            rec.contact(db, dealer, sale.vin, at("2024-03-05"))
            rec.repair(db, dealer, at("2024-03-06"), vin=sale.vin)
        rec.survey(db, dealer, at("2024-03-07"), 3)
        db.commit()
        metrics.refresh(db, months=metrics.last_months(NOW.date()), now=NOW)
        db.commit()
    return {"dealer": dealer,
            "manager": live_server.make_user(Role.dealer_manager, dealer=dealer),
            "hq": live_server.make_user(Role.hq, display_name="总部分析")}


def test_scorecard_then_records_to_fix(page, login_as, world):
    login_as(page, world["manager"])
    page.goto("/scorecard")
    page.wait_for_selector("[data-testid=scorecard-title]")
    assert "上海浦东别克4S店" in page.text_content("[data-testid=scorecard-title]")
    assert page.locator("[data-testid=metrics-table] tbody tr").count() == len(metrics.METRICS)
    assert page.locator("svg.chart").count() == 1
    page.screenshot(path=SHOTS.format("scorecard_zh"), full_page=True)
    page.click("[data-testid=fix-loyalty]")
    page.wait_for_selector("[data-testid=fix-list]")
    assert page.locator("[data-testid=fix-list] tbody tr").count() == 1
    page.click("[data-testid=switch-language]")
    page.wait_for_selector("html[lang=en]")
    assert "Scored 3 of 5" in page.text_content("[data-testid=fix-list]")


def test_hq_drills_down_and_exports(page, login_as, world):
    login_as(page, world["hq"])
    page.goto("/rollups/?first=2024-03&last=2024-03")
    assert page.text_content("[data-testid=total-sales]").strip() == "2"
    page.screenshot(path=SHOTS.format("rollups_zh"), full_page=True)
    page.click("[data-testid=total-sales] a")
    page.wait_for_selector("[data-testid=records]")
    assert page.locator("[data-testid=records] tbody tr").count() == 2
    page.click("[data-testid=export-csv-sales]")
    page.wait_for_selector("[data-testid=download]")  # htmx polled the progress until done
    with page.expect_download() as download:
        page.click("[data-testid=download]")
    with open(download.value.path(), encoding="utf-8-sig") as file:
        assert file.read().count("君越") == 2
