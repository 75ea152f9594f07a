"""The Users page: who sees which logins, creating and changing them, policy and audit."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlmodel import select

from common.enums import Role
from portal import cli
from portal.models import AuditLog, User
from portal.services.users import UserError, check_password

EN = {"Accept-Language": "en"}
NEW_PASSWORD = "Spring-Buick-2024"


def _new_login(client, role="dealer_staff", **extra):
    data = {"username": "new.staff", "display_name": "New Staff", "password": NEW_PASSWORD,
            "role": role, **extra}
    return client.post("/users/new", data=data, headers=EN)


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [("li.na", "short-pw", "at least 10 characters"), ("li.na", "1234567890", "only digits"),
     ("li.na.2024", "LI.NA.2024", "differ from the username")],
)
def test_password_policy_explains(username, password, reason):
    with pytest.raises(UserError) as info:
        check_password(username=username, password=password)
    assert reason in str(info.value)


def test_manager_lists_only_own_dealers_users(client, make_dealer, make_user, login):
    dealer, other = make_dealer(), make_dealer()
    manager = make_user(Role.dealer_manager, dealer=dealer)
    colleague, stranger = make_user(Role.dealer_staff, dealer=dealer), make_user(dealer=other)
    page = login(manager).get("/users/", headers=EN).text
    assert colleague.username in page and manager.username in page
    assert stranger.username not in page


def test_users_list_paginates(app, client, make_dealer, make_user, login):
    app.config["PAGE_SIZE"] = 2
    dealer = make_dealer()
    login(make_user(Role.dealer_manager, dealer=dealer))
    for _ in range(3):
        make_user(Role.dealer_staff, dealer=dealer)
    first, second = client.get("/users/", headers=EN).text, client.get("/users/?page=2").text
    assert "Page 1 of 2" in first and 'rel="next"' in first
    assert second.count("/users/") > 0 and 'rel="prev"' in second


def test_manager_creates_staff_for_own_dealer_and_it_is_audited(client, db, make_dealer,
                                                                 make_user, login):
    dealer = make_dealer()
    login(make_user(Role.dealer_manager, dealer=dealer))
    assert _new_login(client, dealer_code="ELSEWHERE").status_code == 303
    user = db.exec(select(User).where(User.username == "new.staff")).one()
    assert (user.dealer_id, user.role) == (dealer.id, Role.dealer_staff)
    entry = db.exec(select(AuditLog).where(AuditLog.action == "user.created")).one()
    assert (entry.dealer_id, entry.target) == (dealer.id, f"user:{user.id}")


@pytest.mark.parametrize("role", ["hq", "region_manager", "nonsense"])
def test_manager_cannot_give_other_roles(client, db, make_dealer, make_user, login, role):
    login(make_user(Role.dealer_manager, dealer=make_dealer()))
    response = _new_login(client, role=role)
    assert response.status_code == 400
    assert "role" in response.text.lower()
    assert db.exec(select(User).where(User.username == "new.staff")).first() is None


def test_create_form_explains_in_chinese(client, make_dealer, make_user, login):
    login(make_user(Role.dealer_manager, dealer=make_dealer()))
    data = {"username": "x", "display_name": "", "password": "123", "role": "dealer_staff"}
    page = client.post("/users/new", data=data, headers={"Accept-Language": "zh-CN"}).text
    assert "用户名" in page and "A username has" not in page


def test_hq_creates_region_manager(client, db, make_region, make_user, login):
    region = make_region()
    login(make_user(Role.hq))
    response = _new_login(client, role="region_manager", region_code=region.code)
    assert response.status_code == 303
    user = db.exec(select(User).where(User.username == "new.staff")).one()
    assert (user.region_id, user.dealer_id) == (region.id, None)


def test_region_manager_reads_but_cannot_change(client, make_region, make_dealer, make_user,
                                                login):
    region = make_region()
    staff = make_user(Role.dealer_staff, dealer=make_dealer(region=region))
    login(make_user(Role.region_manager, region=region))
    assert staff.username in client.get("/users/").text
    assert client.get("/users/new").status_code == 403
    assert client.post(f"/users/{staff.id}/active", data={"active": "0"}).status_code == 403


def test_dealer_staff_may_not_see_users(client, make_dealer, make_user, login):
    login(make_user(Role.dealer_staff, dealer=make_dealer()))
    assert client.get("/users/").status_code == 403


def test_deactivate_reactivate_and_role_change_are_audited(client, db, make_dealer, make_user,
                                                           login):
    dealer = make_dealer()
    login(make_user(Role.dealer_manager, dealer=dealer))
    staff = make_user(Role.dealer_staff, dealer=dealer)
    client.post(f"/users/{staff.id}/active", data={"active": "0"})
    client.post(f"/users/{staff.id}/active", data={"active": "1"})
    response = client.post(f"/users/{staff.id}/role", data={"role": "dealer_manager"})
    assert response.status_code == 303
    db.expire_all()
    assert db.get(User, staff.id).role == Role.dealer_manager
    actions = db.exec(select(AuditLog.action).where(AuditLog.target == f"user:{staff.id}")
                      .order_by(AuditLog.id)).all()
    assert actions == ["user.deactivated", "user.reactivated", "user.role_changed"]


def test_deactivated_user_is_logged_out(client, db, make_dealer, make_user, login):
    staff = make_user(Role.dealer_staff, dealer=make_dealer())
    login(staff)
    staff.active = False
    db.add(staff)
    db.commit()
    assert client.get("/").status_code == 302


def test_manager_cannot_deactivate_self(client, make_dealer, make_user, login):
    manager = make_user(Role.dealer_manager, dealer=make_dealer())
    login(manager)
    response = client.post(f"/users/{manager.id}/active", data={"active": "0"}, headers=EN)
    assert response.status_code == 400
    assert "cannot change your own login" in response.text


@pytest.mark.parametrize("path", ["/users/{id}", "/users/{id}/role", "/users/{id}/active"])
def test_another_dealers_user_is_not_found(client, make_dealer, make_user, login, path):
    login(make_user(Role.dealer_manager, dealer=make_dealer()))
    stranger = make_user(Role.dealer_staff, dealer=make_dealer())
    url = path.format(id=stranger.id)
    response = client.get(url) if path == "/users/{id}" else client.post(url, data={"role": "x"})
    assert response.status_code == 404
    assert stranger.username not in response.text



@pytest.mark.parametrize(
    ("password", "exit_code", "output"),
    [("Buick-GL8-2024", 0, "created cli.manager"), ("123456789012", 1, "only digits")],
)
def test_cli_create_user_applies_the_policy(app, make_dealer, password, exit_code, output):
    args = ["create-user", "--username", "cli.manager", "--password", password, "--role",
            "dealer_manager", "--dealer", make_dealer().code]
    result = CliRunner().invoke(cli.main, args, obj=ScriptInfo(create_app=lambda: app))
    assert (result.exit_code, output in result.output) == (exit_code, True)
