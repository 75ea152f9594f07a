"""Complaints with the 24-hour answer target, escalation of overdue ones, and surveys.

A complaint is due 24 h after it was received. The scheduled job ``crm.escalate_complaints``
(portal.jobs: one process runs it, under a database lease) records one ComplaintEscalation per
complaint still open past its target, plus an audit entry; the complaints page shows escalations
to the dealer, and HQ/region managers see all escalations in their scope. An escalation is
cleared (``cleared_at``) when the synced complaint comes back answered or resolved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, select

from common.enums import ComplaintStatus, SurveyAbout
from portal.models import AuditLog, Complaint, ComplaintEscalation, Survey
from portal.services.crm_lists import like

ANSWER_TARGET = dt.timedelta(hours=24)
_ESCALATION_JOIN = and_(ComplaintEscalation.dealer_id == Complaint.dealer_id,
                        ComplaintEscalation.record_id == Complaint.record_id)


def due_at(complaint: Complaint) -> dt.datetime:
    return _aware(complaint.received_at) + ANSWER_TARGET


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def is_overdue(complaint: Complaint, now: dt.datetime) -> bool:
    return complaint.status == ComplaintStatus.open and due_at(complaint) < now


@dataclass(frozen=True)
class ComplaintFilters:
    q: str = ""
    status: str = ""
    escalated: bool = False

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ComplaintFilters:
        status = args.get("status", "")
        return cls(args.get("q", "").strip()[:100],
                   status if status in set(ComplaintStatus) else "", args.get("escalated") == "1")


def complaints_query(filters: ComplaintFilters):
    """(Complaint, ComplaintEscalation | None) rows, newest first."""
    stmt = select(Complaint, ComplaintEscalation).outerjoin(ComplaintEscalation, _ESCALATION_JOIN)
    if filters.q:
        pattern = like(filters.q)
        stmt = stmt.where(or_(Complaint.category.like(pattern, escape="\\"),
                              Complaint.description.like(pattern, escape="\\"),
                              Complaint.customer_ref.like(pattern, escape="\\")))
    if filters.status:
        stmt = stmt.where(Complaint.status == filters.status)
    if filters.escalated:
        stmt = stmt.where(ComplaintEscalation.record_id.is_not(None),
                          ComplaintEscalation.cleared_at.is_(None))
    return stmt.order_by(Complaint.received_at.desc(), Complaint.record_id)


def escalate_overdue(*, session: Session, now: dt.datetime) -> int:
    """Escalate every complaint open past its 24-h target, once; clear answered ones."""
    overdue = session.exec(
        select(Complaint).outerjoin(ComplaintEscalation, _ESCALATION_JOIN)
        .where(Complaint.status == ComplaintStatus.open.value,
               Complaint.received_at < now - ANSWER_TARGET,
               ComplaintEscalation.record_id.is_(None))).all()
    for complaint in overdue:
        session.add(ComplaintEscalation(dealer_id=complaint.dealer_id,
                                        record_id=complaint.record_id,
                                        due_at=due_at(complaint), escalated_at=now))
        session.add(AuditLog(dealer_id=complaint.dealer_id, actor="system",
                             action="complaint.escalated",
                             target=f"complaint:{complaint.record_id}",
                             detail={"due_at": due_at(complaint).isoformat()}))
    _clear_answered(session, now)
    return len(overdue)


def _clear_answered(session: Session, now: dt.datetime) -> None:
    rows = session.exec(
        select(ComplaintEscalation).join(Complaint, _ESCALATION_JOIN)
        .where(ComplaintEscalation.cleared_at.is_(None),
               Complaint.status != ComplaintStatus.open.value)).all()
    for escalation in rows:
        escalation.cleared_at = now


@dataclass(frozen=True)
class ComplaintStats:
    total: int
    open: int
    escalated_open: int
    answered_in_time: int
    answered: int

    @property
    def share_in_time(self) -> float | None:
        return self.answered_in_time / self.answered if self.answered else None


def stats(*, session: Session) -> ComplaintStats:
    """Counts for the complaints page, within the session's scope."""
    row = session.execute(select(
        func.count(), func.sum(case((Complaint.status == "open", 1), else_=0)),
        func.sum(case((Complaint.answered_at.is_not(None), 1), else_=0)),
    ).select_from(Complaint)).one()
    # interval arithmetic differs between SQLite and PostgreSQL, so timeliness is judged here
    answered = session.exec(select(Complaint.received_at, Complaint.answered_at)
                            .where(Complaint.answered_at.is_not(None))).all()
    timely = sum(1 for r, a in answered if _aware(a) <= _aware(r) + ANSWER_TARGET)
    escalated = session.exec(select(func.count()).select_from(ComplaintEscalation)
                             .where(ComplaintEscalation.cleared_at.is_(None))).one()
    return ComplaintStats(row[0], int(row[1] or 0), escalated, timely, int(row[2] or 0))


@dataclass(frozen=True)
class SurveyFilters:
    about: str = ""
    score: int | None = None
    q: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> SurveyFilters:
        about, score = args.get("about", ""), args.get("score", "")
        return cls(about if about in set(SurveyAbout) else "",
                   int(score) if score in ("1", "2", "3", "4", "5") else None,
                   args.get("q", "").strip()[:100])


def surveys_query(filters: SurveyFilters):
    stmt = select(Survey)
    if filters.about:
        stmt = stmt.where(Survey.about == filters.about)
    if filters.score:
        stmt = stmt.where(Survey.score == filters.score)
    if filters.q:
        stmt = stmt.where(Survey.customer_ref.like(like(filters.q), escape="\\"))
    return stmt.order_by(Survey.at.desc(), Survey.record_id)


@dataclass(frozen=True)
class Loyalty:
    surveys: int
    fives: int

    @property
    def share(self) -> float | None:
        """Share of 5s: only a 5 counts as a loyal customer."""
        return self.fives / self.surveys if self.surveys else None


def loyalty(*, session: Session, filters: SurveyFilters) -> Loyalty:
    sub = surveys_query(filters).order_by(None).subquery()
    total, fives = session.execute(
        select(func.count(), func.sum(case((sub.c.score == 5, 1), else_=0)))).one()
    return Loyalty(total, int(fives or 0))
