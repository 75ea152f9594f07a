"""Authentication hardening: throttled logins, password policy on every path, session rotation,
cookie flags, CSRF on every state-changing route, and token rotation and revocation."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from sqlmodel import select

from common.enums import Role
from portal.cli import main as portal_cli
from portal.models import AuditLog, LoginAttempt, User
from tests.conftest import PASSWORD, make_test_app

EN = {"Accept-Language": "en"}
NEW_PASSWORD = "a much better secret"


def _fail(client, username, times=1, ip="10.0.0.1"):
    for _ in range(times):
        response = client.post("/login", data={"username": username, "password": "wrong-guess"},
                               headers=EN, environ_base={"REMOTE_ADDR": ip})
    return response


def test_five_failures_lock_the_username_with_429_even_for_the_right_password(client, make_user):
    user = make_user(Role.hq)
    assert _fail(client, user.username, 5).status_code == 400
    response = client.post("/login", data={"username": user.username, "password": PASSWORD},
                           headers=EN, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 800
    assert "Too many failed logins. Wait 15 minutes" in response.text


def test_the_lock_is_in_the_database_so_every_process_sees_it(app, db, make_user, tmp_path):
    user = make_user(Role.hq)
    _fail(app.test_client(), user.username, 5)
    other_process = make_test_app(app.config["DATABASE_URL"], tmp_path)
    response = _fail(other_process.test_client(), user.username)
    other_process.extensions["db_engine"].dispose()
    assert response.status_code == 429


def test_many_usernames_from_one_address_lock_the_address(client, make_user):
    assert {_fail(client, f"nobody-{n}", ip="10.9.9.9").status_code for n in range(20)} == {400}
    assert _fail(client, "nobody-b", ip="10.9.9.9").status_code == 429
    assert _fail(client, "nobody-b", ip="10.9.9.8").status_code == 400


def test_a_successful_login_clears_the_username_count(client, db, make_user, login):
    user = make_user(Role.hq)
    _fail(client, user.username, 4)
    login(user)
    assert db.exec(select(LoginAttempt).where(LoginAttempt.username == user.username)).all() == []


def test_logins_failures_and_logouts_are_audited(client, db, make_dealer, make_user, login):
    user = make_user(Role.dealer_staff, dealer=make_dealer())
    _fail(client, user.username)
    login(user)
    client.post("/logout")
    rows = db.exec(select(AuditLog).where(AuditLog.target == f"login:{user.username}")
                   .order_by(AuditLog.id)).all()
    assert [r.action for r in rows] == ["auth.login_failed", "auth.login", "auth.logout"]
    assert {r.dealer_id for r in rows} == {user.dealer_id} and rows[0].detail["ip"]


def test_login_rotates_the_session(client, make_user):
    user = make_user(Role.hq)
    with client.session_transaction() as before:
        before["planted"] = "by an attacker"
    client.post("/login", data={"username": user.username, "password": PASSWORD})
    with client.session_transaction() as after:
        assert "planted" not in after and after["_user_id"] == str(user.id)


@pytest.mark.parametrize("secure", [True, False])
def test_cookie_flags(app, tmp_path, make_user, secure):
    secure_app = make_test_app(app.config["DATABASE_URL"], tmp_path, SESSION_COOKIE_SECURE=secure)
    user = make_user(Role.hq)
    response = secure_app.test_client().post("/login", data={"username": user.username,
                                                             "password": PASSWORD})
    secure_app.extensions["db_engine"].dispose()
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and ("Secure" in cookie) == secure
    assert secure_app.config["REMEMBER_COOKIE_HTTPONLY"]
    assert secure_app.config["REMEMBER_COOKIE_SECURE"] == secure or not secure


def _change(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post("/account/password", headers=EN, data={
        "current": current, "new": new, "confirm": confirm if confirm is not None else new})


def test_change_my_password_logs_out_my_other_sessions(app, client, make_user, login):
    user = make_user(Role.hq)
    other = app.test_client()
    other.post("/login", data={"username": user.username, "password": PASSWORD})
    login(user)
    assert _change(client).status_code == 303
    assert client.get("/account/password").status_code == 200
    assert other.get("/account/password").status_code == 302
    assert other.post("/login", data={"username": user.username,
                                      "password": NEW_PASSWORD}).status_code == 302


def test_a_role_change_or_deactivation_elsewhere_applies_to_the_next_request(
        app, client, make_dealer, make_user, login, tmp_path):
    manager = make_user(Role.dealer_manager, dealer=make_dealer())
    login(manager)
    assert client.get("/users/").status_code == 200  # this process has drawn the manager's nav
    other_process = make_test_app(app.config["DATABASE_URL"], tmp_path)
    hq = other_process.test_client()
    hq.post("/login", data={"username": make_user(Role.hq).username, "password": PASSWORD})
    assert hq.post(f"/users/{manager.id}/role", data={"role": "dealer_staff"}).status_code == 303
    assert client.get("/users/").status_code == 403
    assert 'href="/users/"' not in client.get("/").text
    assert hq.post(f"/users/{manager.id}/active", data={"active": "0"}).status_code == 303
    other_process.extensions["db_engine"].dispose()
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(("current", "new", "confirm", "message"), [
    ("wrong one!", NEW_PASSWORD, None, "The current password is wrong."),
    (PASSWORD, "short", None, "at least 10 characters"),
    (PASSWORD, "1234567890123", None, "must not be only digits"),
    (PASSWORD, PASSWORD, None, "different from the current one"),
    (PASSWORD, NEW_PASSWORD, "something else", "The two new passwords differ."),
])
def test_password_change_follows_the_policy(client, make_user, login, current, new, confirm,
                                            message):
    login(make_user(Role.hq))
    response = _change(client, current, new, confirm)
    assert response.status_code == 400 and message in response.text


def test_the_password_change_is_audited(client, db, make_user, login):
    user = make_user(Role.hq)
    login(user)
    _change(client)
    assert db.exec(select(AuditLog).where(AuditLog.action == "user.password_changed",
                                          AuditLog.target == f"user:{user.id}")).one()


@pytest.mark.parametrize("password", ["short", "12345678901", "policyuser1"])
def test_policy_applies_on_the_users_page_and_the_cli(app, client, make_user, login, password):
    login(make_user(Role.hq))
    page = client.post("/users/new", headers=EN, data={
        "username": "policyuser1", "display_name": "P", "password": password, "role": "hq"})
    cli = CliRunner().invoke(portal_cli, ["create-user", "--username", "policyuser1", "--role",
                                          "hq", "--password", password],
                             obj=_script_info(app))
    assert page.status_code == 400 and cli.exit_code != 0


def _script_info(app):
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)


@pytest.fixture
def csrf_client(app, tmp_path, make_user):
    """A client of an app with CSRF on, logged in as HQ; yields (client, token)."""
    csrf_app = make_test_app(app.config["DATABASE_URL"], tmp_path, WTF_CSRF_ENABLED=True)
    client, user = csrf_app.test_client(), make_user(Role.hq)
    token = _token(client)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302
    yield client, token
    csrf_app.extensions["db_engine"].dispose()


def _token(client, path="/login") -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).text).group(1)


def test_every_state_changing_route_needs_a_csrf_token(app, csrf_client):
    client, refused = csrf_client[0], []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or not rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            continue
        url = re.sub(r"<uuid:[^>]+>", "00000000-0000-4000-8000-000000000001", rule.rule)
        url = re.sub(r"<[^>]+>", "1", url)
        refused.append((rule.rule, client.post(url).status_code))
    assert refused and [r for r in refused if r[1] != 400] == []


def test_htmx_requests_carry_the_token_in_a_header(csrf_client):
    client, token = csrf_client
    header_token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"', client.get("/").text)[1]
    response = client.post("/locale/en", headers={"X-CSRFToken": header_token,
                                                  "HX-Request": "true"})
    assert response.status_code == 303
    assert client.post("/locale/en", headers={"X-CSRFToken": token}).status_code == 400


def test_the_token_authenticated_api_needs_no_csrf_token(csrf_client):
    response = csrf_client[0].post("/api/v1/sync/push", json={})
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


def test_an_agent_rotates_its_token_and_the_old_one_is_refused(client, db, make_agent, push):
    enrolled = make_agent()
    answer = client.post("/api/v1/sync/token", headers=enrolled.headers)
    assert answer.status_code == 200 and answer.json["token"] != enrolled.token
    assert client.get("/api/v1/sync/verify", headers=enrolled.headers).status_code == 401
    enrolled.token = answer.json["token"]
    assert client.get("/api/v1/sync/verify", headers=enrolled.headers).status_code == 200
    assert db.exec(select(AuditLog).where(AuditLog.action == "agent.token_rotated")).one()


def test_a_revoked_agent_cannot_rotate_its_token(client, db, make_agent):
    from portal.services import agents

    enrolled = make_agent()
    agents.revoke(session=db, agent=enrolled.agent, user_id=None, actor="test")
    db.commit()
    response = client.post("/api/v1/sync/token", headers=enrolled.headers)
    assert response.status_code == 401 and response.json["error"]["code"] == "token_revoked"


def test_passwords_and_tokens_are_stored_hashed(db, make_user, make_agent):
    user, enrolled = make_user(Role.hq), make_agent()
    stored = db.exec(select(User).where(User.id == user.id)).one().password_hash
    assert PASSWORD not in stored and enrolled.token not in enrolled.agent.token_hash
