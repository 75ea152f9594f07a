"""Logging in and out, roles on the dashboard, and CSRF on the login form."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from common.enums import Role
from tests.conftest import PASSWORD, make_test_app


def test_login_shows_own_dealer_dashboard(client, make_dealer, make_user, login):
    dealer = make_dealer()
    login(make_user(Role.dealer_manager, dealer=dealer))
    page = client.get("/", headers={"Accept-Language": "en"}).text
    assert dealer.name_en in page
    assert "Sales this month" in page


def test_wrong_password_is_refused(client, make_dealer, make_user):
    user = make_user(Role.dealer_staff, dealer=make_dealer())
    response = client.post("/login", data={"username": user.username, "password": "nope-nope"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "Wrong username or password" in response.text
    assert client.get("/").status_code == 302


def test_anonymous_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_logout_ends_session(client, make_dealer, make_user, login):
    login(make_user(Role.dealer_staff, dealer=make_dealer()))
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("role", [Role.dealer_manager, Role.region_manager])
def test_a_page_reads_the_login_and_its_data_on_one_connection(
        client, engine, make_region, make_dealer, make_user, login, role):
    region = make_region()
    dealer = make_dealer(region=region)
    login(make_user(role, dealer=dealer if role == Role.dealer_manager else None,
                    region=region if role == Role.region_manager else None))
    checkouts = []
    event.listen(engine, "checkout", lambda *_: checkouts.append(1))
    assert client.get("/", headers={"Accept-Language": "en"}).status_code == 200
    assert len(checkouts) == 1


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("zh-CN,zh;q=0.9", "本月销售"), ("en-US", "Sales this month"), ("", "本月销售")],
)
def test_language_follows_browser(client, make_dealer, make_user, login, accept, expected):
    login(make_user(Role.dealer_staff, dealer=make_dealer()))
    assert expected in client.get("/", headers={"Accept-Language": accept}).text


def test_language_switch_overrides_browser(client, make_dealer, make_user, login):
    login(make_user(Role.dealer_staff, dealer=make_dealer()))
    client.post("/locale/en", data={"next": "/"})
    assert "Sales this month" in client.get("/", headers={"Accept-Language": "zh-CN"}).text


def test_login_form_requires_csrf_token(sqlite_url, tmp_path, make_dealer):
    app = make_test_app(sqlite_url, tmp_path, WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/login", data={"username": "x", "password": PASSWORD})
    assert response.status_code == 400
    app.extensions["db_engine"].dispose()
