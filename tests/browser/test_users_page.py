"""A dealer manager creates a login through the real form (CSRF on) and deactivates it."""

from __future__ import annotations

import pytest

from common.enums import Role

pytestmark = pytest.mark.browser


def test_manager_creates_and_deactivates_a_login(page, login_as, live_server):
    manager = live_server.make_user(Role.dealer_manager, dealer=live_server.make_dealer())
    login_as(page, manager)
    page.goto("/users/new")
    page.fill("input[name=username]", "li.na")
    page.fill("input[name=display_name]", "李娜")
    page.fill("input[name=password]", "12345")
    page.click("button[type=submit].primary")
    assert page.locator("[aria-invalid=true]").count() == 1  # the password, explained
    page.fill("input[name=password]", "Buick-GL8-2024")
    page.click("button[type=submit].primary")
    assert page.text_content("[data-testid=user-name]").startswith("李娜")
    page.click("button.danger")
    page.wait_for_selector("form button.primary >> nth=-1")
    page.screenshot(path="/tmp/shot_user_detail.png", full_page=True)
    assert "user.deactivated" not in page.content()  # the history shows a label, not the code
