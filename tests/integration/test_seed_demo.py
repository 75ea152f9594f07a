"""`dealer-portal seed-demo` on both databases: rows, logins for every role, running it twice."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from common.enums import Role
from portal.cli import main
from portal.demo.generator import DEMO_PASSWORDS
from portal.models import Agent, Dealer, Lead, RepairOrder, RepairPart, Sale, User

SMALL = ["seed-demo", "--dealers", "3", "--months", "2", "--today", "2026-03-05"]


def seed(app, *extra: str):
    return app.test_cli_runner().invoke(main, [*SMALL, *extra])


def count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def test_seed_demo_fills_every_table_and_reports_counts(app, db):
    result = seed(app)
    assert result.exit_code == 0, result.output
    assert count(db, Dealer) == count(db, Agent) == 3 and count(db, User) == 1 + 5 + 6
    for model in (Sale, RepairOrder, RepairPart, Lead):
        assert f"{model.__tablename__:<12} {count(db, model):>9,}" in result.output


@pytest.mark.parametrize(
    "username", ["hq", "region.east", "sh001.manager", "bj002.staff"],
)
def test_every_demo_role_can_log_in(app, client, db, username):
    assert seed(app).exit_code == 0
    user = db.exec(select(User).where(User.username == username)).one()
    assert username in seed(app).output  # the logins are printed
    response = client.post("/login", data={"username": username,
                                           "password": DEMO_PASSWORDS[Role(user.role)]})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_second_run_changes_nothing_and_says_so(app, db):
    assert seed(app).exit_code == 0
    sales = count(db, Sale)
    again = seed(app, "--seed", "99")
    assert again.exit_code == 0
    assert "already loaded" in again.output
    assert count(db, Sale) == sales and count(db, Dealer) == 3


def test_refuses_a_database_with_other_dealers(app, db, make_dealer):
    make_dealer("ZZ999")
    result = seed(app)
    assert result.exit_code == 1
    assert "not demo data" in result.output
    assert count(db, Sale) == 0
