"""Complaints (24-hour answer target, escalation, resolution) and satisfaction surveys."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, request
from flask_login import login_required

from common.enums import ComplaintStatus, SurveyAbout
from common.i18n import N_
from portal import access, db, jobs, navigation
from portal.crm.views import csv_of, page_of, render_list
from portal.models import utcnow
from portal.services import crm_complaints as service
from portal.services import crm_corrections as corrections

bp = Blueprint("complaints", __name__, url_prefix="/complaints")
access.protect(bp, access.Access.dealer)
navigation.register("complaints.index", N_("Complaints"), order=33)
ESCALATION_JOB = "crm.escalate_complaints"
CONFLICT_JOB = "crm.flag_correction_conflicts"
jobs.register(ESCALATION_JOB, lambda session: service.escalate_overdue(session=session,
                                                                        now=utcnow()),
              every=dt.timedelta(minutes=10))
jobs.register(CONFLICT_JOB, lambda session: corrections.flag_conflicts(session=session),
              every=dt.timedelta(minutes=10))
COMPLAINT_HEADER = ["record_id", "received_at", "due_at", "customer_ref", "channel", "category",
                    "description", "status", "answered_at", "resolved_at", "resolution",
                    "escalated_at"]


@bp.get("/")
@login_required
def index():
    """Complaints with their 24-h target, escalations and resolution, filtered."""
    session, filters = db.session(), service.ComplaintFilters.from_args(request.args)
    page = page_of(service.complaints_query(filters))
    return render_list(
        "crm/complaints.html", page=page, filters=filters, now=utcnow(),
        stats=service.stats(session=session), statuses=list(ComplaintStatus),
        due_at=service.due_at, is_overdue=service.is_overdue,
        overlay=corrections.overlays(session=session, kind="complaint",
                                     records=[c for c, _ in page.items]),
        fields=corrections.CORRECTABLE, field_labels=corrections.FIELD_LABELS)


@bp.get("/export.csv")
@login_required
def export():
    """Download the filtered complaints as CSV."""
    stmt = service.complaints_query(service.ComplaintFilters.from_args(request.args))
    return csv_of("complaints.csv", COMPLAINT_HEADER, stmt, _complaint_row)


def _complaint_row(row) -> list:
    c, escalation = row
    return [c.record_id, c.received_at.isoformat(), service.due_at(c).isoformat(),
            c.customer_ref, c.channel, c.category, c.description, c.status,
            c.answered_at.isoformat() if c.answered_at else "",
            c.resolved_at.isoformat() if c.resolved_at else "", c.resolution,
            escalation.escalated_at.isoformat() if escalation else ""]


@bp.get("/surveys")
@login_required
def surveys():
    """Satisfaction surveys (1–5) with the share of 5s, filtered."""
    filters = service.SurveyFilters.from_args(request.args)
    page = page_of(service.surveys_query(filters))
    return render_list("crm/surveys.html", page=page, filters=filters, abouts=list(SurveyAbout),
                       loyalty=service.loyalty(session=db.session(), filters=filters))


@bp.get("/surveys/export.csv")
@login_required
def surveys_export():
    """Download the filtered surveys as CSV."""
    header = ["record_id", "customer_ref", "about", "score", "at"]
    stmt = service.surveys_query(service.SurveyFilters.from_args(request.args))
    return csv_of("surveys.csv", header, stmt,
                  lambda s: [s.record_id, s.customer_ref, s.about, s.score, s.at.isoformat()])
