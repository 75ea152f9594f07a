"""Follow-up tasks: the agent (offline) and the portal compute the same tasks from the same records.

The same wire records go (1) through the agent's local store and the shared wire→facts converter,
(2) into the portal database through the sync ingest's row mapping and the portal's adapter.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import insert

from common.enums import Role
from common.followup import FollowUpRules, compute_tasks, facts_from_wire, rules_from_env
from common.schemas import parse_record
from portal.models import Contact, Sale
from portal.services import crm_followup
from portal.services.sync import record_row
from sync_agent.store import Store
from tests.conftest import make_test_app
from tests.integration.crm_factories import NOW, add_sale, wire_contact, wire_sale

TODAY = dt.date(2025, 6, 1)


def _scenario(dealer) -> list:
    """Sales in every follow-up situation, and their contacts (by VIN and by sale record_id)."""
    day = dt.timedelta(days=1)
    overdue = wire_sale(dealer, sale_date=TODAY - 40 * day, salesperson="李娜")
    recent = wire_sale(dealer, sale_date=TODAY - 10 * day, salesperson="王强")
    periodic = wire_sale(dealer, sale_date=TODAY - 400 * day, salesperson="李娜")
    boundary = wire_sale(dealer, sale_date=TODAY - 300 * day, salesperson="王强")
    ended = wire_sale(dealer, sale_date=TODAY - 6 * 365 * day)
    at = dt.datetime.combine(TODAY, dt.time(9), dt.UTC)
    contacts = [
        wire_contact(dealer, recent.vehicle.vin, at - 2 * day),
        wire_contact(dealer, str(periodic.record_id), at - 178 * day),
        # 17:30 UTC is the next day in Shanghai: the periodic task falls just past the horizon
        wire_contact(dealer, boundary.vehicle.vin,
                     dt.datetime.combine(TODAY - 173 * day, dt.time(17, 30), dt.UTC)),
    ]
    return [overdue, recent, periodic, boundary, ended, *contacts]


def _agent_tasks(tmp_path, dealer, records, rules) -> list:
    with Store(tmp_path / "agent.db") as store:
        store.enroll(portal_url="http://127.0.0.1:9", agent_id=str(uuid.uuid4()), token="t",
                     dealer_code=dealer.code, epoch=1)
        for record in records:
            store.save_record(record.kind, record.model_dump(mode="json"),
                              record_id=str(record.record_id))
        local = [parse_record(r.payload) for r in store.list_records(limit=1000)]
    return compute_tasks(*facts_from_wire(local), TODAY, rules)


def _portal_tasks(db, dealer, records, rules) -> list:
    for record in records:
        table = {"sale": Sale, "contact": Contact}[record.kind]
        db.execute(insert(table), [record_row(record, dealer_id=dealer.id,
                                              agent_id=uuid.uuid4(), now=NOW)])
    db.commit()
    return crm_followup.dealer_tasks(session=db, dealer_id=dealer.id, today=TODAY, rules=rules)


@pytest.mark.parametrize("rules", [FollowUpRules(), FollowUpRules(first_contact_days=14,
                                                                  periodic_interval_days=90)])
def test_agent_and_portal_compute_the_same_tasks(tmp_path, db, make_dealer, rules):
    dealer = make_dealer()
    records = _scenario(dealer)
    from_wire = compute_tasks(*facts_from_wire(records), TODAY, rules)
    assert {t.task for t in from_wire} == {"first_contact", "periodic"}
    assert _portal_tasks(db, dealer, records, rules) == from_wire
    assert _agent_tasks(tmp_path, dealer, records, rules) == from_wire


def test_rules_come_from_the_environment(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("FOLLOWUP_FIRST_CONTACT_DAYS", "14")
    app = make_test_app(sqlite_url, tmp_path)
    assert app.config["FOLLOWUP_RULES"].first_contact_days == 14
    app.extensions["db_engine"].dispose()


def test_bad_rule_value_names_the_variable():
    with pytest.raises(ValueError, match="FOLLOWUP_PERIODIC_INTERVAL_DAYS"):
        rules_from_env({"FOLLOWUP_PERIODIC_INTERVAL_DAYS": "half a year"})


def test_task_page_lists_overdue_per_salesperson(client, db, make_dealer, make_user, login):
    dealer = make_dealer()
    today = dt.datetime.now(dt.UTC).date()
    add_sale(db, dealer, sale_date=today - dt.timedelta(days=45), salesperson="李娜", name="钱七")
    add_sale(db, make_dealer(), sale_date=today - dt.timedelta(days=45), name="外店客户")
    login(make_user(Role.dealer_staff, dealer=dealer))
    page = client.get("/follow-ups/?state=overdue", headers={"Accept-Language": "en"}).text
    assert "钱七" in page and "外店客户" not in page
    assert "First contact after sale" in page and "Overdue" in page


def test_task_filter_fragment_is_not_a_whole_page(client, db, make_dealer, make_user, login):
    dealer = make_dealer()
    add_sale(db, dealer, sale_date=dt.datetime.now(dt.UTC).date() - dt.timedelta(days=45))
    login(make_user(Role.dealer_staff, dealer=dealer))
    response = client.get("/follow-ups/?salesperson=nobody", headers={"HX-Request": "true"})
    assert "<html" not in response.text and 'id="results"' in response.text
    assert "HX-Request" in response.headers["Vary"]
