"""Leads by purchase timeframe: the list with conversion per bucket, and the next actions."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, request
from flask_login import login_required

from common.enums import LeadSource, LeadStatus, LeadTimeframe
from common.followup import BUSINESS_TZ
from common.i18n import N_
from common.leads import HANDLING
from portal import access, db, navigation
from portal.crm.views import csv_download, csv_of, page_of, page_of_list, render_list
from portal.services import crm_corrections as corrections
from portal.services import crm_leads as service

bp = Blueprint("leads", __name__, url_prefix="/leads")
access.protect(bp, access.Access.dealer)
navigation.register("leads.index", N_("Leads"), order=31)
LEAD_HEADER = ["record_id", "created_at", "name", "phone", "interested_model",
               "purchase_timeframe", "handling", "source", "salesperson", "status"]


def today() -> dt.date:
    return dt.datetime.now(BUSINESS_TZ).date()


@bp.get("/")
@login_required
def index():
    """List leads with filters, their handling, and conversion per timeframe bucket."""
    session, filters = db.session(), service.LeadFilters.from_args(request.args)
    overview = service.overview(session=session, filters=filters)
    page = page_of(service.leads_query(filters),
                   total=service.listed_total(filters, overview.counts))
    overlay = corrections.overlays(session=session, kind="lead", records=page.items)
    effective = corrections.effective_values(session=session, kind="lead", records=page.items,
                                             overlay=overlay)
    return render_list(
        "crm/leads.html", page=page, filters=filters,
        conversion=service.conversion_table(overview.counts), overlay=overlay,
        actions=service.next_actions(page.items, effective, today()), handling=HANDLING,
        timeframes=list(LeadTimeframe), statuses=list(LeadStatus), sources=list(LeadSource),
        salespeople=overview.salespeople, fields=corrections.CORRECTABLE,
        field_labels=corrections.FIELD_LABELS)


@bp.get("/export.csv")
@login_required
def export():
    """Download the filtered leads as CSV."""
    stmt = service.leads_query(service.LeadFilters.from_args(request.args))
    return csv_of("leads.csv", LEAD_HEADER, stmt, _lead_row)


def _lead_row(lead) -> list:
    handling = HANDLING.get(lead.purchase_timeframe)
    return [lead.record_id, lead.created_at.isoformat(), lead.name, lead.phone,
            lead.interested_model, lead.purchase_timeframe, handling.action if handling else "",
            lead.source, lead.salesperson, lead.status]


@bp.get("/next")
@login_required
def todo():
    """Each salesperson's list of what to do next about their active leads."""
    session = db.session()
    salesperson = request.args.get("salesperson", "").strip()
    items = service.todo(session=session, today=today(), salesperson=salesperson)
    return render_list("crm/lead_todo.html", page=page_of_list(items), salesperson=salesperson,
                       salespeople=service.salespeople(session=session), today=today())


@bp.get("/next/export.csv")
@login_required
def todo_export():
    """Download the next actions (filtered by salesperson) as CSV."""
    items = service.todo(session=db.session(), today=today(),
                         salesperson=request.args.get("salesperson", "").strip())
    rows = ([t.salesperson, t.action.action, t.action.due.isoformat(), t.action.overdue,
             t.lead.name, t.lead.phone, t.lead.purchase_timeframe, t.lead.record_id]
            for t in items)
    return csv_download("lead-next-actions.csv", ["salesperson", "action", "due", "overdue",
                                                  "name", "phone", "purchase_timeframe",
                                                  "record_id"], rows)
