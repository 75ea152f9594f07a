"""The dashboard's figures: this month's activity and agent freshness, within the user's scope."""

from __future__ import annotations

import datetime as dt
import uuid

from common.enums import Role
from portal.models import Agent, ComplaintEscalation
from tests.integration.crm_factories import add_complaint

NOW = dt.datetime.now(dt.UTC)


def add_agent(db, dealer, *, created_hours_ago: float, synced_hours_ago: float | None):
    db.add(Agent(dealer_id=dealer.id, token_hash=uuid.uuid4().hex,
                 created_at=NOW - dt.timedelta(hours=created_hours_ago),
                 last_success_at=None if synced_hours_ago is None
                 else NOW - dt.timedelta(hours=synced_hours_ago)))
    db.commit()


def test_agent_freshness_follows_the_agents_page_rule(client, db, make_dealer, make_user, login):
    dealer, other = make_dealer(), make_dealer()
    add_agent(db, dealer, created_hours_ago=1, synced_hours_ago=None)  # new: 24 h to sync
    add_agent(db, dealer, created_hours_ago=72, synced_hours_ago=None)  # never synced: silent
    add_agent(db, dealer, created_hours_ago=72, synced_hours_ago=2)  # fresh
    add_agent(db, other, created_hours_ago=72, synced_hours_ago=50)  # another dealer's
    login(make_user(Role.dealer_manager, dealer=dealer))
    page = client.get("/", headers={"Accept-Language": "en"}).text
    assert '<span class="value">2 / 3</span>' in page


def test_escalated_complaints_link_to_the_list(client, db, make_dealer, make_user, login):
    dealer = make_dealer()
    received = NOW - dt.timedelta(hours=30)
    complaint = add_complaint(db, dealer, "LSGPC52H58F123456", received=received)
    db.add(ComplaintEscalation(dealer_id=dealer.id, record_id=complaint.record_id,
                               due_at=NOW - dt.timedelta(hours=6)))
    db.commit()
    login(make_user(Role.dealer_manager, dealer=dealer))
    page = client.get("/", headers={"Accept-Language": "en"}).text
    assert 'href="/complaints/?escalated=1"' in page and '<span class="value">1</span>' in page
