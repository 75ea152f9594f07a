"""Enter, search and edit local records; saving works offline and queues for the portal."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext

from common.labels import LABELS
from sync_agent.records import KINDS, RecordInvalid
from sync_agent.store import NotEnrolled, NotFound
from sync_agent.ui import forms
from sync_agent.ui.views import agent, page, pager

bp = Blueprint("records", __name__, url_prefix="/records")


@bp.get("/")
def index():
    """Local records, newest first, by kind and text, a page at a time."""
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else None
    search = request.args.get("q", "").strip()
    store = agent().store
    pages = pager(store.count_records(kind, search=search))
    rows = store.list_records(kind, search=search, limit=pages.size, offset=pages.offset)
    return page("records/index.html", "results", rows=rows, kind=kind, q=search, pager=pages,
                kinds=KINDS, summary=summary)


@bp.get("/new")
def choose():
    return page("records/choose.html", kinds=KINDS)


@bp.route("/new/<kind>", methods=["GET", "POST"])
def new(kind: str):
    """An empty form for *kind*; saving creates version 1 and queues it."""
    if kind not in KINDS:
        abort(404)
    if request.method == "GET":
        return record_form(kind, values=forms.form_values(kind, {}), parts=[{}])
    return _save(kind, record_id=None)


@bp.route("/<record_id>/edit", methods=["GET", "POST"])
def edit(record_id: str):
    """The saved record in its form; saving a change makes the next version."""
    try:
        record = agent().store.get_record(record_id)
    except NotFound:
        abort(404)
    if request.method == "GET":
        return record_form(record.kind, values=forms.form_values(record.kind, record.payload),
                           parts=record.payload.get("parts") or [{}], record=record)
    return _save(record.kind, record_id=record_id, record=record)


@bp.get("/part-line")
def part_line():
    """One more empty parts line for the repair-order form."""
    return page("records/form.html", "part_line", part={}, errors={}, index=0,
                part_labels=forms.PART_LABELS)


def _save(kind: str, *, record_id: str | None, record=None):
    fields = forms.parse_form(kind, request.form)
    errors = validate(kind, fields)
    if not errors:
        try:
            result = agent().coordinator.save_record(kind, fields, record_id=record_id)
        except RecordInvalid as error:
            errors = forms.explain_problems(error.problems, gettext)
        except NotEnrolled:
            return redirect(url_for("status.enrol"), 303)
    if errors:
        return record_form(kind, values=posted_values(kind), record=record, errors=errors,
                           parts=forms.parse_parts(request.form) or [{}], status=422)
    flash(_saved_message(result), "success")
    return redirect(url_for("records.index", kind=kind), 303)


def validate(kind: str, fields: dict) -> dict[str, list[str]]:
    identity = agent().store.identity()
    return forms.check(kind, fields, identity.dealer_code if identity else "", gettext)


def _saved_message(result) -> str:
    name = gettext(LABELS[result.kind])
    if not result.changed:
        return gettext("Nothing changed in this %(kind)s.", kind=name)
    if agent().store.get_meta("online") == "1":
        return gettext("%(kind)s saved (version %(version)s) and being sent to the portal.",
                       kind=name, version=result.version)
    return gettext("%(kind)s saved (version %(version)s). The portal is not reachable now: it "
                   "is queued and sent automatically when the network is back.",
                   kind=name, version=result.version)


def posted_values(kind: str) -> dict:
    values = {f.name: request.form.get(f.name, "") for f in forms.form_fields(kind)}
    values.update({f.name: f.name in request.form for f in forms.form_fields(kind)
                   if f.widget == "checkbox"})
    return values


def record_form(kind: str, *, values: dict, parts: list, record=None, errors=None, status=200,
          action: str | None = None, quarantine=None):
    return page("records/form.html", kind=kind, sections=forms.FORMS[kind], values=values,
                parts=parts, record=record, errors=errors or {}, http_status=status,
                action=action or request.path, quarantine=quarantine,
                part_labels=forms.PART_LABELS)


def summary(record) -> str:
    """A line telling records apart in the list."""
    p = record.payload
    parts = {
        "sale": (p.get("customer", {}).get("name"), p.get("vehicle", {}).get("model"),
                 p.get("vehicle", {}).get("vin")),
        "repair_order": (p.get("vin"), p.get("technician"), p.get("work_performed", "")[:40]),
        "lead": (p.get("name"), p.get("phone"), p.get("interested_model")),
        "contact": (p.get("customer_ref"), p.get("by"), p.get("outcome")),
        "complaint": (p.get("customer_ref"), p.get("category"), p.get("description", "")[:40]),
        "survey": (p.get("customer_ref"), f"{p.get('score')}/5", None),
    }[record.kind]
    return " · ".join(str(x) for x in parts if x)
