"""Follow-up tasks (contact after a sale, then periodically) per dealer and salesperson.

Contacts are logged at the dealership in the agent, which syncs them; the portal therefore has
no "log contact" button. Each task links to the instructions for logging it in the agent, and a
manager may annotate the task (a note on its sale, audited) — the decision documented in the
README under "Follow-ups".
"""

from __future__ import annotations

import datetime as dt
import uuid

from flask import Blueprint, current_app, render_template, request
from flask_login import login_required

from common.followup import BUSINESS_TZ, TASK_LABELS
from common.i18n import N_
from portal import access, db, navigation
from portal.auth import current_scope
from portal.crm.views import csv_download, page_of_list, render_list
from portal.services import crm_corrections as corrections
from portal.services import crm_followup as service

bp = Blueprint("tasks", __name__, url_prefix="/follow-ups")
access.protect(bp, access.Access.dealer)
navigation.register("tasks.index", N_("Follow-ups"), order=32)
HEADER = ["dealer", "salesperson", "task", "due", "state", "customer_name", "vin",
          "sale_record_id"]


def _today() -> dt.date:
    return dt.datetime.now(BUSINESS_TZ).date()


def _tasks(filters: service.TaskFilters, today: dt.date):
    """The chosen dealer (first in scope by default), and its tasks matching *filters*."""
    session = db.session()
    dealers = service.dealers_in_scope(session=session, dealer_ids=current_scope().dealer_ids)
    chosen = [d for d in dealers if d.id == filters.dealer_id]
    dealer = (chosen or dealers or [None])[0]
    tasks = [] if dealer is None else service.dealer_tasks(
        session=session, dealer_id=dealer.id, today=today,
        rules=current_app.config["FOLLOWUP_RULES"])
    return dealers, dealer, tasks


@bp.get("/")
@login_required
def index():
    """Due and overdue follow-ups of one dealer, per salesperson, with filters."""
    today, filters = _today(), service.TaskFilters.from_args(request.args)
    dealers, dealer, tasks = _tasks(filters, today)
    shown = [t for t in tasks if service.matches(t, filters, today)]
    page = page_of_list(shown)
    notes = {str(k): v for k, v in corrections.notes(
        session=db.session(), kind="sale",
        record_ids=[uuid.UUID(t.sale_record_id) for t in page.items]).items()}
    return render_list(
        "crm/tasks.html", page=page, filters=filters, dealers=dealers, dealer=dealer,
        loads=service.by_salesperson(tasks, today), today=today, labels=TASK_LABELS,
        state_of=service.state_of, notes=notes, rules=current_app.config["FOLLOWUP_RULES"])


@bp.get("/export.csv")
@login_required
def export():
    """Download the filtered follow-up tasks as CSV."""
    today, filters = _today(), service.TaskFilters.from_args(request.args)
    _, dealer, tasks = _tasks(filters, today)
    rows = ([dealer.code, t.salesperson, t.task, t.due.isoformat(), service.state_of(t, today),
             t.customer_name, t.vin, t.sale_record_id]
            for t in tasks if service.matches(t, filters, today))
    return csv_download("follow-ups.csv", HEADER, rows)


@bp.get("/how-to-log")
@access.any_user
@login_required
def how_to_log():
    """How a contact is logged in the dealership's agent (the portal cannot log it)."""
    return render_template("crm/task_help.html")
