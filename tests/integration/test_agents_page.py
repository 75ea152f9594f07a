"""The agents page, enrolment codes in the portal and on the command line, revocation."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlmodel import select

from common.enums import Role
from portal.cli import main
from portal.models import AuditLog, Enrollment
from portal.services import agents
from tests.integration.sync_factories import lead

EN = {"Accept-Language": "en"}


def rows(page: str) -> list[str]:
    return re.findall(r'data-agent="([0-9a-f-]+)"', page)


def set_last_success(db, enrolled, hours_ago: float | None) -> None:
    agent = db.merge(enrolled.agent)
    agent.last_success_at = None if hours_ago is None else (
        dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago))
    agent.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    db.commit()


@pytest.mark.parametrize(("role", "sees"), [
    (Role.dealer_staff, {"a"}), (Role.dealer_manager, {"a"}), (Role.region_manager, {"a", "b"}),
    (Role.hq, {"a", "b", "c"})])
def test_each_role_sees_the_agents_in_its_scope(client, make_agent, make_dealer, make_region,
                                                make_user, login, role, sees):
    region = make_region()
    made = {"a": make_agent(make_dealer(region=region)),
            "b": make_agent(make_dealer(region=region)), "c": make_agent()}
    login(make_user(role, dealer=made["a"].dealer, region=region))
    page = client.get("/agents/", headers=EN).text
    assert set(rows(page)) == {str(made[k].agent.id) for k in sees}


@pytest.mark.parametrize(("hours_ago", "flagged"), [(1, False), (25, True), (None, True)])
def test_silent_agents_are_flagged(client, db, make_agent, make_user, login, hours_ago, flagged):
    enrolled = make_agent()
    set_last_success(db, enrolled, hours_ago)
    login(make_user(Role.dealer_staff, dealer=enrolled.dealer))
    page = client.get("/agents/", headers=EN).text
    assert ('data-testid="silent"' in page) is flagged
    assert ("Silent for more than 24 h" in page) is flagged


def test_agents_list_paginates_and_serves_a_fragment(app, client, make_agent, make_dealer,
                                                     make_user, login):
    app.config["PAGE_SIZE"] = 2
    dealer = make_dealer()
    made = {str(make_agent(dealer, name=f"pc{n}").agent.id) for n in range(3)}
    login(make_user(Role.dealer_manager, dealer=dealer))
    first, second = (client.get(f"/agents/?page={n}", headers=EN).text for n in (1, 2))
    assert len(rows(first)) == 2 and set(rows(first) + rows(second)) == made
    fragment = client.get("/agents/?page=2", headers={"HX-Request": "true", **EN}).text
    assert rows(fragment) == rows(second) and "<html" not in fragment


def test_manager_issues_a_code_shown_once(client, db, make_dealer, make_user, login):
    dealer = make_dealer()
    login(make_user(Role.dealer_manager, dealer=dealer))
    page = client.post("/agents/enrollments", data={"hours": "4"},
                       headers={"HX-Request": "true", **EN}).text
    code = re.search(r'data-testid="code">([A-Z0-9-]+)<', page).group(1)
    assert "<html" not in page
    enrollment = db.exec(select(Enrollment)).one()
    assert enrollment.dealer_id == dealer.id and enrollment.code_hash == agents.sha256(
        code.replace("-", ""))
    assert code not in client.get("/agents/", headers=EN).text
    issued = db.exec(select(AuditLog).where(AuditLog.action == "enrollment.issued")).all()
    assert [entry.target for entry in issued] == [dealer.code]


@pytest.mark.parametrize(("form", "message"), [
    ({"hours": "4", "dealer_code": "NOPE"}, "No dealer has the code NOPE"),
    ({"hours": "4"}, "Enter the code of an existing dealer"),
    ({"hours": "999", "dealer_code": "X"}, "Between 1 and 168 hours")])
def test_hq_form_explains_mistakes(client, db, make_user, login, form, message):
    login(make_user(Role.hq))
    response = client.post("/agents/enrollments", data=form, headers=EN)
    assert response.status_code == 400 and message in response.text
    assert db.exec(select(Enrollment)).all() == []


def test_hq_issues_for_a_named_dealer(client, db, make_dealer, make_user, login):
    dealer = make_dealer()
    login(make_user(Role.hq))
    response = client.post("/agents/enrollments", data={"hours": "24", "dealer_code": dealer.code})
    assert response.status_code == 200
    assert db.exec(select(Enrollment.dealer_id)).one() == dealer.id


@pytest.mark.parametrize("role", [Role.dealer_staff, Role.region_manager])
def test_only_managers_issue_and_revoke(client, make_agent, make_region, make_user, login, role):
    region = make_region()
    enrolled = make_agent()
    login(make_user(role, dealer=enrolled.dealer, region=region))
    assert client.post("/agents/enrollments", data={"hours": "4"}).status_code == 403
    assert client.post(f"/agents/{enrolled.agent.id}/revoke").status_code == 403


def test_revoke_asks_then_stops_the_agent(client, db, make_agent, make_user, login, push):
    enrolled = make_agent()
    login(make_user(Role.dealer_manager, dealer=enrolled.dealer))
    confirm = client.get(f"/agents/{enrolled.agent.id}/revoke", headers=EN).text
    assert "Yes, revoke it" in confirm
    response = client.post(f"/agents/{enrolled.agent.id}/revoke")
    assert response.status_code == 303
    assert push(enrolled, []).json["error"]["code"] == "token_revoked"
    assert "agent.revoked" in db.exec(select(AuditLog.action)).all()


def test_other_dealers_agent_is_not_found(client, make_agent, make_user, login):
    mine, other = make_agent(), make_agent()
    login(make_user(Role.dealer_manager, dealer=mine.dealer))
    assert client.get(f"/agents/{other.agent.id}").status_code == 404
    assert client.post(f"/agents/{other.agent.id}/revoke").status_code == 404


def test_detail_shows_the_rejection_log_paginated(app, client, make_agent, make_user, login,
                                                  push):
    app.config["PAGE_SIZE"] = 2
    enrolled = make_agent()
    push(enrolled, [lead(enrolled.dealer.code, phone=f"12{n}") for n in range(3)])
    login(make_user(Role.dealer_staff, dealer=enrolled.dealer))
    first = client.get(f"/agents/{enrolled.agent.id}", headers=EN).text
    assert first.count('data-testid="rejection-row"') == 2 and "Page 1 of 2" in first
    fragment = client.get(f"/agents/{enrolled.agent.id}?page=2",
                          headers={"HX-Request": "true", **EN}).text
    assert fragment.count('data-testid="rejection-row"') == 1 and "<html" not in fragment


def test_cli_issues_an_enrolment_code(app, db, make_dealer):
    dealer = make_dealer()
    result = CliRunner().invoke(main, ["issue-enrollment", "--dealer", dealer.code, "--hours", "2"],
                                obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    code = re.search(r": ([A-Z0-9]{5}-[A-Z0-9]{5})", result.output).group(1)
    assert "valid until" in result.output
    enrolled = agents.enroll(session=db, code=code, agent_name="pc", agent_version="1")
    assert enrolled.dealer_code == dealer.code


def test_cli_refuses_an_unknown_dealer(app):
    result = CliRunner().invoke(main, ["issue-enrollment", "--dealer", "NOPE"],
                                obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code != 0 and "no dealer has the code" in result.output
