"""Managers' corrections and annotations: audited overlay, never overwritten by sync, conflicts."""

from __future__ import annotations

import pytest
from sqlmodel import select

from common.enums import Role
from portal.models import AuditLog, Dealer, RecordCorrection
from portal.services import crm_corrections as service
from tests.integration.crm_factories import add_lead, add_sale

EN = {"Accept-Language": "en"}


@pytest.fixture
def manager_and_lead(db, make_dealer, make_user):
    dealer = make_dealer()
    return make_user(Role.dealer_manager, dealer=dealer), add_lead(db, dealer, salesperson="")


def _correct(client, lead, field="salesperson", value="李娜"):
    return client.post(f"/records/lead/{lead.record_id}/correct",
                       data={"field": field, "value": value, "next": "/leads/"}, headers=EN)


def _sync_new_version(db, record, **changes):
    """What the ingest does with a newer version: replace the row's values."""
    for name, value in {"version": record.version + 1, **changes}.items():
        setattr(record, name, value)
    db.add(record)
    db.commit()


def test_correction_is_audited_and_shown(client, db, login, manager_and_lead):
    manager, lead = manager_and_lead
    login(manager)
    assert _correct(client, lead).status_code == 303
    audit = db.exec(select(AuditLog).where(AuditLog.action == "record.corrected")).one()
    assert (audit.detail["before"], audit.detail["after"]) == ("", "李娜")
    body = client.get("/leads/", headers=EN).text
    assert 'data-testid="corrected-salesperson">李娜' in body and "corrected by" in body


def test_newer_sync_with_same_value_keeps_correction(client, db, login, manager_and_lead):
    manager, lead = manager_and_lead
    login(manager)
    _correct(client, lead)
    _sync_new_version(db, lead, status="contacted")
    assert service.flag_conflicts(session=db) == 0
    assert 'data-testid="corrected-salesperson">李娜' in client.get("/leads/", headers=EN).text


def test_newer_sync_with_other_value_flags_conflict(client, db, login, manager_and_lead):
    manager, lead = manager_and_lead
    login(manager)
    _correct(client, lead)
    _sync_new_version(db, lead, salesperson="王强")
    assert 'data-testid="conflict"' in client.get("/leads/", headers=EN).text  # before the job
    assert service.flag_conflicts(session=db) == 1
    db.commit()
    assert "王强" in client.get("/records/conflicts", headers=EN).text


@pytest.mark.parametrize(("keep", "status", "shown"), [("1", "active", "李娜"),
                                                       ("0", "withdrawn", "王强")])
def test_manager_resolves_conflict(client, db, login, manager_and_lead, keep, status, shown):
    manager, lead = manager_and_lead
    login(manager)
    _correct(client, lead)
    _sync_new_version(db, lead, salesperson="王强")
    service.flag_conflicts(session=db)
    db.commit()
    correction = db.exec(select(RecordCorrection)).one()
    client.post(f"/records/corrections/{correction.id}/resolve", data={"keep": keep})
    db.refresh(correction)
    assert correction.status == status
    todo = client.get("/leads/next", headers=EN).text
    assert shown in todo


def test_annotation_is_audited(client, db, login, make_dealer, make_user):
    dealer = make_dealer()
    sale = add_sale(db, dealer)
    login(make_user(Role.dealer_manager, dealer=dealer))
    client.post(f"/records/sale/{sale.record_id}/annotate", data={"text": "客户出国至五月"})
    assert db.exec(select(AuditLog).where(AuditLog.action == "record.annotated")).one()
    assert "客户出国至五月" in client.get(f"/customers/{sale.customer_phone}").text


def test_invalid_value_is_explained(client, db, login, manager_and_lead):
    manager, lead = manager_and_lead
    login(manager)
    response = _correct(client, lead, field="status", value="maybe")
    assert response.status_code == 303
    assert "Choose one of the listed values" in client.get("/leads/", headers=EN).text
    assert db.exec(select(RecordCorrection)).all() == []


def test_staff_cannot_correct_and_other_dealer_gets_404(client, db, login, make_user,
                                                        make_dealer, manager_and_lead):
    _, lead = manager_and_lead
    login(make_user(Role.dealer_staff, dealer=make_dealer()))
    assert _correct(client, lead).status_code == 403
    login(make_user(Role.dealer_manager, dealer=make_dealer()))
    assert _correct(client, lead).status_code == 404


def test_assignment_by_correction_changes_the_next_action(client, db, login, manager_and_lead):
    manager, lead = manager_and_lead
    login(manager)
    assert "Assign a salesperson" in client.get("/leads/", headers=EN).text
    _correct(client, lead)
    assert "Follow up now" in client.get("/leads/", headers=EN).text


def test_every_row_of_a_list_gets_its_own_correction_form(client, db, login, manager_and_lead):
    manager, lead = manager_and_lead
    other = add_lead(db, db.get(Dealer, manager.dealer_id), name="钱七")
    login(manager)
    body = client.get("/leads/?status=open", headers=EN).text
    for record in (lead, other):
        for action in ("correct", "annotate"):
            assert f'action="/records/lead/{record.record_id}/{action}"' in body
    # two forms per row, and the language switch
    assert body.count('name="next" value="/leads/?status=open"') == 2 * 2 + 1
    assert body.count("<option value=\"interested_model\">Interested model</option>") == 2
