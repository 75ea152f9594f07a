"""Managers correct or annotate synced records (an audited overlay) and review conflicts."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import select

from common.enums import Role
from portal import access, db
from portal.auth import roles_required
from portal.crm.views import page_of_list, render_list
from portal.models import RecordCorrection
from portal.services import crm_corrections as service

bp = Blueprint("corrections", __name__, url_prefix="/records")
EDITORS = (Role.dealer_manager, Role.hq)
access.protect(bp, access.Access.dealer)


def _back():
    target = request.form.get("next", "")
    safe = target.startswith("/") and not target.startswith("//")
    return redirect(target if safe else url_for("dashboard.index"), 303)


def _record(kind: str, record_id: uuid.UUID):
    record = service.get_record(session=db.session(), kind=kind, record_id=record_id)
    if record is None:
        abort(404)
    return record


@bp.post("/<kind>/<uuid:record_id>/correct")
@access.dealer_scoped(*EDITORS)
@roles_required(*EDITORS)
def correct(kind: str, record_id: uuid.UUID):
    """Store a manager's value for one field of a synced record."""
    session, record = db.session(), _record(kind, record_id)
    try:
        service.correct(session=session, kind=kind, record=record,
                        field=request.form.get("field", ""), value=request.form.get("value", ""),
                        user=current_user)
    except service.CorrectionError as error:
        flash(_(error.message, **error.params), "error")
        return _back()
    session.commit()
    flash(_("Correction saved. It is shown instead of the synced value and audited."), "info")
    return _back()


@bp.post("/<kind>/<uuid:record_id>/annotate")
@access.dealer_scoped(*EDITORS)
@roles_required(*EDITORS)
def annotate(kind: str, record_id: uuid.UUID):
    """Attach a manager's note to a synced record."""
    session, record = db.session(), _record(kind, record_id)
    try:
        service.annotate(session=session, kind=kind, record=record,
                         text=request.form.get("text", ""), user=current_user)
    except service.CorrectionError as error:
        flash(_(error.message, **error.params), "error")
        return _back()
    session.commit()
    flash(_("Note saved."), "info")
    return _back()


@bp.get("/conflicts")
@login_required
def conflicts():
    """Corrections a newer synced version contradicts, waiting for review."""
    items = service.conflicts(session=db.session())
    return render_list("crm/conflicts.html", page=page_of_list(items),
                       field_labels=service.FIELD_LABELS, editors=EDITORS)


@bp.post("/corrections/<uuid:correction_id>/resolve")
@access.dealer_scoped(*EDITORS)
@roles_required(*EDITORS)
def resolve(correction_id: uuid.UUID):
    """Keep a conflicting correction or accept the synced value."""
    session = db.session()
    correction = session.exec(
        select(RecordCorrection).where(RecordCorrection.id == correction_id)).first()
    if correction is None:
        abort(404)
    record = _record(correction.kind, correction.record_id)
    service.resolve_conflict(session=session, correction=correction, record=record,
                             keep=request.form.get("keep") == "1", user=current_user)
    session.commit()
    flash(_("Conflict resolved."), "info")
    return _back()
