"""Complaints: 24-hour target, escalation by the scheduled job (once across processes), surveys."""

from __future__ import annotations

import datetime as dt
import threading

from sqlmodel import select

from common.enums import Role
from portal import jobs
from portal.crm.complaints import ESCALATION_JOB
from portal.models import AuditLog, ComplaintEscalation
from portal.services import crm_complaints as service
from tests.integration.crm_factories import add_complaint, add_survey

NOW = dt.datetime.now(dt.UTC)


def _late(db, dealer, **kw):
    return add_complaint(db, dealer, "LSGJA52U0AS000001", received=NOW - dt.timedelta(hours=30),
                         **kw)


def test_job_escalates_once_across_concurrent_processes(engine, db, make_dealer):
    dealer = make_dealer()
    late = _late(db, dealer)
    add_complaint(db, dealer, "x", received=NOW - dt.timedelta(hours=2))  # still in time
    threads = [threading.Thread(target=jobs.run_once, args=(engine, ESCALATION_JOB))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [e.record_id for e in db.exec(select(ComplaintEscalation))] == [late.record_id]
    audit = db.exec(select(AuditLog).where(AuditLog.action == "complaint.escalated")).all()
    assert len(audit) == 1


def test_a_second_run_does_not_escalate_again(engine, db, make_dealer):
    _late(db, make_dealer())
    assert service.escalate_overdue(session=db, now=NOW) == 1
    assert service.escalate_overdue(session=db, now=NOW + dt.timedelta(hours=1)) == 0


def test_answered_complaints_are_not_escalated_and_clear(db, make_dealer):
    dealer = make_dealer()
    answered = _late(db, dealer, status="answered")
    late = _late(db, dealer)
    service.escalate_overdue(session=db, now=NOW)
    late.status = "resolved"
    db.add(late)
    service.escalate_overdue(session=db, now=NOW)
    escalation = db.exec(select(ComplaintEscalation)).one()
    assert escalation.record_id != answered.record_id and escalation.cleared_at is not None


def test_escalation_shows_to_dealer_and_hq(client, db, make_dealer, make_user, login):
    dealer = make_dealer()
    _late(db, dealer, category="维修质量")
    service.escalate_overdue(session=db, now=NOW)
    db.commit()
    for user in (make_user(Role.dealer_staff, dealer=dealer), make_user(Role.hq)):
        login(user)
        body = client.get("/complaints/?escalated=1", headers={"Accept-Language": "en"}).text
        assert "维修质量" in body and 'data-testid="escalated"' in body


def test_share_of_fives_counts_only_fives(client, db, make_dealer, make_user, login):
    dealer = make_dealer()
    for score in (5, 5, 4, 3):
        add_survey(db, dealer, "ref", score)
    add_survey(db, make_dealer(), "ref", 1)
    login(make_user(Role.dealer_staff, dealer=dealer))
    body = client.get("/complaints/surveys", headers={"Accept-Language": "en"}).text
    assert 'data-testid="share-of-fives">50.0 %' in body


def test_timeliness_counts_answers_within_24_hours(engine, db, make_dealer):
    dealer = make_dealer()
    for hours in (3, 30):
        c = add_complaint(db, dealer, "x", received=NOW - dt.timedelta(hours=40),
                          status="answered")
        c.answered_at = c.received_at + dt.timedelta(hours=hours)
        db.add(c)
    db.commit()
    stats = service.stats(session=db)
    assert (stats.answered, stats.answered_in_time, stats.share_in_time) == (2, 1, 0.5)
