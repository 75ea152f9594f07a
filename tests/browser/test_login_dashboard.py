"""A dealer manager logs in through the real form, reads the dashboard in Chinese and English."""

from __future__ import annotations

import re

import pytest

from common.enums import Role

pytestmark = pytest.mark.browser
SHOTS = "/tmp/shot_dashboard_{}.png"


@pytest.fixture(scope="module")
def manager(live_server):
    dealer = live_server.make_dealer(name_zh="上海浦东别克4S店", name_en="Shanghai Pudong Buick")
    return live_server.make_user(Role.dealer_manager, dealer=dealer)


def test_manager_sees_dashboard_in_chinese_then_english(page, login_as, manager):
    login_as(page, manager)
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.text_content("[data-testid=dashboard-title]").strip() == "上海浦东别克4S店"
    assert page.get_by_text("本月销售").is_visible()
    page.screenshot(path=SHOTS.format("zh"), full_page=True)

    page.click("[data-testid=switch-language]")
    page.wait_for_selector("html[lang=en]")
    assert page.text_content("[data-testid=dashboard-title]").strip() == "Shanghai Pudong Buick"
    assert page.get_by_text("Sales this month").is_visible()
    page.screenshot(path=SHOTS.format("en"), full_page=True)


def test_logout_returns_to_login(page, login_as, manager):
    login_as(page, manager)
    page.get_by_role("button", name="退出", exact=True).click()
    page.wait_for_url(re.compile(r"/login$"))
    page.goto("/")
    assert "/login" in page.url


def test_wrong_password_is_explained_in_the_form(page, manager):
    page.goto("/login")
    page.fill("input[name=username]", manager.username)
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit].primary")
    assert page.locator(".flash-error").is_visible()
    assert "/login" in page.url


def test_layout_fits_a_phone(page, login_as, manager):
    page.set_viewport_size({"width": 390, "height": 844})
    login_as(page, manager)
    page.screenshot(path=SHOTS.format("zh_390"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px wide)"
