"""Each CRM-usage metric against tiny hand-built records whose answer is known."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlmodel import select

from portal.models import Agent, AgentSyncDay, DealerMonthMetric
from portal.services import metrics
from tests import metrics_records as rec
from tests.metrics_records import NOW, at

FEB, MAR = dt.date(2024, 2, 1), dt.date(2024, 3, 1)


def computed(db, dealer, month: dt.date = FEB) -> DealerMonthMetric:
    db.commit()
    metrics.refresh(db, months=[FEB, MAR], dealer_ids=[dealer.id], now=NOW)
    db.commit()
    return db.get(DealerMonthMetric, (dealer.id, month))


def test_post_sale_contact_within_30_days(db, make_dealer):
    dealer = make_dealer()
    by_vin, by_id = rec.sale(db, dealer, "2024-02-01"), rec.sale(db, dealer, "2024-02-05")
    late = rec.sale(db, dealer, "2024-02-10")
    rec.sale(db, dealer, "2024-02-11")  # never contacted
    rec.contact(db, dealer, by_vin.vin, at("2024-02-11"))
    rec.contact(db, dealer, by_id.record_id, at("2024-03-05"))  # day 29
    rec.contact(db, dealer, late.vin, at("2024-03-21"))  # day 40
    rec.sale(db, dealer, "2024-03-15")  # still inside its 30 days: pending
    rec.contact(db, dealer, rec.sale(db, dealer, "2024-03-18").vin, at("2024-03-19"))
    feb, mar = computed(db, dealer), computed(db, dealer, MAR)
    assert (feb.sales_due, feb.sales_contacted) == (4, 2)
    assert (mar.sales_due, mar.sales_contacted) == (1, 1)


def test_lead_response_median_and_share_within_24h(db, make_dealer):
    dealer = make_dealer()
    for hours in (2, 30, None):
        lead = rec.lead(db, dealer, at("2024-02-03"))
        if hours is not None:
            rec.contact(db, dealer, lead.record_id, at("2024-02-03") + dt.timedelta(hours=hours))
    rec.lead(db, dealer, NOW - dt.timedelta(hours=3))  # not yet due
    feb, mar = computed(db, dealer), computed(db, dealer, MAR)
    assert (feb.leads_due, feb.leads_24h, feb.leads_responded) == (3, 1, 2)
    assert feb.lead_median_h == 16.0
    assert (mar.leads_due, mar.lead_median_h) == (0, None)


def test_lead_conversion_per_timeframe(db, make_dealer):
    dealer = make_dealer()
    for timeframe, status in [("within_3_months", "won"), ("within_3_months", "lost"),
                              ("within_1_year", "open"), ("immediate", "won")]:
        rec.lead(db, dealer, at("2024-02-10"), timeframe=timeframe, status=status)
    row = computed(db, dealer)
    assert (row.leads_3m, row.won_3m, row.leads_1y, row.won_1y) == (2, 1, 1, 0)
    assert (row.leads_immediate, row.won_immediate, row.leads_6m) == (1, 1, 0)
    assert metrics.METRIC_BY_KEY["conversion"].value(row.model_dump()) == 1.0  # 1 ÷ 2×0.24


def test_lifecycle_coverage_as_of_month_end(db, make_dealer):
    dealer = make_dealer()
    covered, stale = rec.sale(db, dealer, "2020-06-01"), rec.sale(db, dealer, "2022-01-01")
    rec.contact(db, dealer, rec.sale(db, dealer, "2018-01-01").vin, at("2024-02-01"))  # too old
    rec.contact(db, dealer, covered.vin, at("2024-01-15"))
    rec.contact(db, dealer, stale.record_id, at("2023-06-01"))
    rec.contact(db, dealer, stale.vin, at("2024-03-05"))  # after February: not counted there
    feb, mar = computed(db, dealer), computed(db, dealer, MAR)
    assert (feb.lifecycle_customers, feb.lifecycle_covered) == (2, 1)
    assert (mar.lifecycle_customers, mar.lifecycle_covered) == (2, 2)


def test_data_completeness(db, make_dealer):
    dealer = make_dealer()
    rec.sale(db, dealer, "2024-02-01")
    rec.sale(db, dealer, "2024-02-01", vin=rec.bad_vin())
    rec.sale(db, dealer, "2024-02-01", phone="12345")
    rec.sale(db, dealer, "2024-02-01", postcode="20000")
    rec.repair(db, dealer, at("2024-02-02"))
    rec.repair(db, dealer, at("2024-02-02"), parts=())
    rec.repair(db, dealer, at("2024-02-02"), technician=" ")
    rec.repair(db, dealer, at("2024-02-02"), vin=rec.bad_vin())
    row = computed(db, dealer)
    assert (row.records_checked, row.records_complete) == (8, 2)


def test_complaint_timeliness(db, make_dealer):
    dealer = make_dealer()
    received = at("2024-02-05")
    for answered in (received + dt.timedelta(hours=2), received + dt.timedelta(hours=30), None):
        rec.complaint(db, dealer, received, answered)
    rec.complaint(db, dealer, NOW - dt.timedelta(hours=2), None)  # still within 24 h
    feb, mar = computed(db, dealer), computed(db, dealer, MAR)
    assert (feb.complaints_due, feb.complaints_24h) == (3, 1)
    assert (mar.complaints_due, mar.complaints_24h) == (0, 0)


def test_loyalty_counts_only_fives(db, make_dealer):
    dealer = make_dealer()
    for score in (5, 5, 4, 1):
        rec.survey(db, dealer, at("2024-02-20"), score)
    row = computed(db, dealer)
    assert (row.surveys, row.surveys_loyal) == (4, 2)


def test_days_synced_in_the_month(db, make_dealer):
    dealer = make_dealer()
    agent = Agent(dealer_id=dealer.id, token_hash=uuid.uuid4().hex)
    db.add(agent)
    for when in ("2024-02-01", "2024-02-02", "2024-02-02", "2024-03-01"):
        metrics.record_sync_day(db, agent, at(when))
        db.flush()
    db.add(AgentSyncDay(dealer_id=dealer.id, agent_id=uuid.uuid4(), day=dt.date(2024, 2, 2)))
    feb, mar = computed(db, dealer), computed(db, dealer, MAR)
    assert (feb.sync_days, feb.month_days) == (2, 29)
    assert (mar.sync_days, mar.month_days) == (1, 20)
    assert len(db.exec(select(AgentSyncDay).where(AgentSyncDay.agent_id == agent.id)).all()) == 3


def test_refresh_replaces_rows_and_keeps_other_dealers(db, make_dealer):
    dealer, other = make_dealer(), make_dealer()
    rec.survey(db, dealer, at("2024-02-20"), 5)
    computed(db, dealer)
    rec.survey(db, dealer, at("2024-02-21"), 4)
    assert computed(db, dealer).surveys == 2
    assert db.get(DealerMonthMetric, (other.id, FEB)) is None


@pytest.mark.parametrize("days", ["2024-02-10", "2024-02-29"])
def test_refresh_dealer_months_takes_any_day_of_the_month(db, make_dealer, days):
    dealer = make_dealer()
    rec.survey(db, dealer, at("2024-02-20"), 5)
    db.commit()
    assert metrics.refresh_dealer_months(db, dealer.id, [dt.date.fromisoformat(days)], NOW) == 1
    assert db.get(DealerMonthMetric, (dealer.id, FEB)).surveys_loyal == 1
