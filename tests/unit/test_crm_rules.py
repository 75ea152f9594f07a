"""Shared CRM rules: lead handling by timeframe, business dates, follow-up settings."""

from __future__ import annotations

import datetime as dt

import pytest

from common.followup import DEFAULT_RULES, local_date, rules_from_env
from common.leads import BASELINE_CONVERSION, next_action

CREATED = dt.date(2025, 1, 1)


@pytest.mark.parametrize(("timeframe", "action", "due_days"), [
    ("immediate", "follow_up_now", 1), ("within_3_months", "pull_forward", 7),
    ("within_6_months", "detailed_material", 14), ("within_1_year", "general_material", 30)])
def test_each_bucket_has_its_handling(timeframe, action, due_days):
    todo = next_action(timeframe=timeframe, status="open", salesperson="李娜", created=CREATED,
                       today=CREATED)
    assert (todo.action, todo.due - CREATED) == (action, dt.timedelta(days=due_days))


def test_unassigned_immediate_lead_needs_assigning_and_is_late_next_day():
    todo = next_action(timeframe="immediate", status="open", salesperson=" ", created=CREATED,
                       today=CREATED + dt.timedelta(days=1))
    assert (todo.action, todo.overdue) == ("assign", True)


@pytest.mark.parametrize("status", ["won", "lost"])
def test_closed_leads_need_nothing(status):
    assert next_action(timeframe="immediate", status=status, salesperson="x", created=CREATED,
                       today=CREATED) is None


def test_baselines_are_the_seeds_figures_only():
    assert {k.value: v for k, v in BASELINE_CONVERSION.items() if v} == {
        "within_3_months": 0.10, "within_1_year": 0.04}


def test_business_date_is_shanghai_and_naive_means_utc():
    late_evening_utc = dt.datetime(2025, 3, 1, 17, 30)
    assert local_date(late_evening_utc) == dt.date(2025, 3, 2)
    assert local_date(late_evening_utc.replace(tzinfo=dt.UTC)) == dt.date(2025, 3, 2)


def test_empty_settings_keep_the_defaults():
    assert rules_from_env({"FOLLOWUP_HORIZON_DAYS": ""}) == DEFAULT_RULES
