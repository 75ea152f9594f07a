"""Quarantined records with their reasons: fix and send again, replay as is, or discard."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext

from sync_agent.records import RecordInvalid
from sync_agent.store import NotFound
from sync_agent.ui import forms
from sync_agent.ui.views import agent, page, pager
from sync_agent.ui.views.records import posted_values, record_form, validate

bp = Blueprint("quarantine", __name__, url_prefix="/quarantine")


@bp.get("/")
def index():
    """Every quarantined record with what is wrong, in the user's language."""
    return page("quarantine/index.html", "entries", **_list())


def _list() -> dict:
    store = agent().store
    pages = pager(store.quarantine_count())
    entries = store.quarantine_list(pages.size, pages.offset)
    return {"entries": entries, "reasons": {e.id: reasons_of(e) for e in entries},
            "pager": pages}


def reasons_of(entry) -> list[str]:
    """What is wrong, translated when this PC can tell (else the portal's own words)."""
    if entry.kind not in forms.FORMS:
        return [entry.message]
    errors = validate(entry.kind, entry.payload)
    found = [f"{_where(entry.kind, name)}{text}" for name, texts in errors.items()
             for text in texts]
    if entry.source == "portal" or not found:
        return [entry.message, *found]
    return found


def _where(kind: str, name: str) -> str:
    msgid = forms.field_label(kind, name)
    return f"{gettext(msgid)}: " if msgid else (f"{name}: " if name else "")


def _entry(entry_id: int):
    try:
        return agent().store.quarantine_get(entry_id)
    except NotFound:
        abort(404)


@bp.route("/<int:entry_id>/edit", methods=["GET", "POST"])
def edit(entry_id: int):
    """The quarantined record in its form, prefilled; saving sends the corrected version."""
    entry = _entry(entry_id)
    if entry.kind not in forms.FORMS:
        abort(404)
    if request.method == "GET":
        errors = validate(entry.kind, entry.payload)
        return record_form(entry.kind, values=forms.form_values(entry.kind, entry.payload),
                           parts=entry.payload.get("parts") or [{}], errors=errors,
                           quarantine=entry)
    fields = forms.parse_form(entry.kind, request.form)
    errors = validate(entry.kind, fields)
    if not errors:
        try:
            result = agent().store.quarantine_fix(entry_id, fields)
        except RecordInvalid as error:
            errors = forms.explain_problems(error.problems, gettext)
    if errors:
        return record_form(entry.kind, values=posted_values(entry.kind), quarantine=entry,
                           errors=errors, parts=forms.parse_parts(request.form) or [{}],
                           status=422)
    agent().coordinator.request_sync()
    flash(gettext("Corrected and queued as version %(version)s.", version=result.version),
          "success")
    return redirect(url_for("quarantine.index"), 303)


@bp.post("/<int:entry_id>/replay")
def replay(entry_id: int):
    """Send the record again as it is (e.g. after the portal's data was corrected)."""
    entry = _entry(entry_id)
    try:
        agent().store.quarantine_replay(entry_id)
    except RecordInvalid:
        flash(gettext("Record #%(id)s still has mistakes; correct it before sending it again.",
                      id=entry.id), "error")
        return redirect(url_for("quarantine.edit", entry_id=entry_id), 303)
    agent().coordinator.request_sync()
    flash(gettext("Record #%(id)s is queued again and sent on the next sync.", id=entry.id),
          "success")
    return redirect(url_for("quarantine.index"), 303)


@bp.get("/<int:entry_id>/discard")
def confirm_discard(entry_id: int):
    """Ask before discarding: it cannot be undone."""
    return page("quarantine/index.html", "confirm", entry=_entry(entry_id), **_list())


@bp.post("/<int:entry_id>/discard")
def discard(entry_id: int):
    _entry(entry_id)
    agent().store.quarantine_discard(entry_id)
    flash(gettext("Record #%(id)s was discarded.", id=entry_id), "success")
    return redirect(url_for("quarantine.index"), 303)
