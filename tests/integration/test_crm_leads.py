"""Leads: conversion per timeframe beside the baselines, each salesperson's next actions."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session

from common.enums import Role
from portal.services import crm_leads as service
from portal.tenancy import Scope, set_scope
from tests.integration.crm_factories import add_lead

EN = {"Accept-Language": "en"}
NOW = dt.datetime.now(dt.UTC)


def test_conversion_per_bucket_beside_baselines(db, make_dealer):
    dealer = make_dealer()
    for status in ("won", "open", "lost", "open"):
        add_lead(db, dealer, timeframe="within_3_months", status=status)
    add_lead(db, make_dealer(), timeframe="within_3_months", status="won")
    rows = {c.timeframe.value: c for c in service.conversion_by_bucket(
        session=db, filters=service.LeadFilters())}
    assert (rows["within_3_months"].leads, rows["within_3_months"].won) == (5, 2)
    assert rows["within_1_year"].rate is None and rows["within_1_year"].baseline == 0.04


def test_conversion_table_shows_baselines_and_dash(client, db, make_dealer, make_user, login):
    dealer = make_dealer()
    add_lead(db, dealer, timeframe="within_3_months", status="won")
    add_lead(db, dealer, timeframe="within_3_months")
    login(make_user(Role.dealer_staff, dealer=dealer))
    body = client.get("/leads/", headers=EN).text
    row = body.split('data-testid="conversion-within_3_months"')[1].split("</tr>")[0]
    assert "50.0 %" in row and "10.0 %" in row
    assert "—" in body.split('data-testid="conversion-immediate"')[1].split("</tr>")[0]


def test_next_actions_per_salesperson(client, db, make_dealer, make_user, login):
    dealer = make_dealer()
    add_lead(db, dealer, name="甲", timeframe="immediate", salesperson="李娜",
             created=NOW - dt.timedelta(days=3))
    add_lead(db, dealer, name="乙", timeframe="within_6_months", salesperson="王强", created=NOW)
    add_lead(db, dealer, name="丙", timeframe="immediate", salesperson="李娜", status="won")
    login(make_user(Role.dealer_staff, dealer=dealer))
    body = client.get("/leads/next?salesperson=李娜", headers=EN).text
    assert body.count('data-testid="todo-row"') == 1
    assert "Follow up now" in body and "Overdue" in body and "乙" not in body


def test_unassigned_immediate_lead_asks_for_assignment(db, make_dealer):
    add_lead(db, make_dealer(), timeframe="immediate", salesperson="")
    [item] = service.todo(session=db, today=NOW.date())
    assert item.action.action == "assign"


@pytest.mark.parametrize(("query", "total"), [
    ("", 4), ("?salesperson=王强", 1), ("?timeframe=immediate", 2), ("?status=won", 1),
    ("?timeframe=within_3_months&status=open", 1)])
def test_list_total_counts_the_filtered_leads(client, db, make_dealer, make_user, login,
                                              query, total):
    dealer = make_dealer()
    for timeframe, status, salesperson in [
            ("immediate", "open", "李娜"), ("immediate", "won", "李娜"),
            ("within_3_months", "open", "王强"), ("within_1_year", "lost", "李娜")]:
        add_lead(db, dealer, timeframe=timeframe, status=status, salesperson=salesperson)
    add_lead(db, make_dealer(), timeframe="immediate")  # another dealer's: never counted
    login(make_user(Role.dealer_staff, dealer=dealer))
    body = client.get(f"/leads/{query}", headers=EN).text
    assert f"{total} in total" in body and body.count('data-testid="lead-row"') == total


@pytest.mark.parametrize(("filters", "counts"), [
    (service.LeadFilters(), {"immediate": (2, 1), "within_3_months": (2, 0)}),
    (service.LeadFilters(q="甲"), {"immediate": (1, 1), "within_3_months": (1, 0)}),
    (service.LeadFilters(salesperson="王强"), {"immediate": (1, 0)}),
    (service.LeadFilters(q="乙", salesperson="王强", status="won"), {"immediate": (1, 0)}),
    (service.LeadFilters(q="甲", salesperson="王强"), {})])
def test_overview_counts_the_filtered_leads_and_names_every_salesperson(
        db, engine, make_dealer, filters, counts):
    dealer = make_dealer()
    for name, timeframe, status, salesperson in [
            ("甲", "immediate", "won", "李娜"), ("乙", "immediate", "open", "王强"),
            ("甲", "within_3_months", "open", ""), ("丙", "within_3_months", "lost", "李娜")]:
        add_lead(db, dealer, name=name, timeframe=timeframe, status=status,
                 salesperson=salesperson)
    add_lead(db, make_dealer(), name="甲", status="won", salesperson="外店")  # never counted
    with set_scope(Session(engine), Scope.dealers([dealer.id])) as session:
        overview = service.overview(session=session, filters=filters)
    assert overview.counts == counts
    assert overview.salespeople == ["李娜", "王强"]
