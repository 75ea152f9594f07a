"""Import DMS exports: upload, map columns, preview with per-row errors, import with progress."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext

from sync_agent import mapping
from sync_agent.importer import group_part_lines, unflatten
from sync_agent.records import KINDS
from sync_agent.ui import forms
from sync_agent.ui.context import ImportJob
from sync_agent.ui.views import agent, page, pager

bp = Blueprint("imports", __name__, url_prefix="/import")
SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm"}
SAMPLES = 3


@bp.get("/")
def upload_form():
    return page("imports/upload.html", sources=sorted(mapping.saved_mappings(agent().store)),
                error=None)


@bp.post("/")
def upload():
    """Read the export and recognise its columns (with the saved mapping of its source)."""
    file, source = request.files.get("file"), request.form.get("source", "").strip()
    suffix = Path(file.filename or "").suffix.lower() if file else ""
    if not file or suffix not in SUFFIXES:
        return _upload_error(gettext("Choose a CSV or Excel (.xlsx) file exported from the DMS."))
    try:
        table = _read(file, suffix)
    except mapping.UnreadableFile as error:
        return _upload_error(gettext("This file cannot be read: %(reason)s",
                                     reason=error.render(gettext)))
    if not table.rows:
        return _upload_error(gettext("The file has column names but no rows."))
    found = mapping.mapping_for(agent().store, source, table.headers)
    job = agent().new_import(file.filename, table, found, source)
    return redirect(url_for("imports.columns", job_id=job.id), 303)


def _read(file, suffix: str) -> mapping.Table:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        file.save(path)
        return mapping.read_table(path)


def _upload_error(message: str):
    return page("imports/upload.html", sources=sorted(mapping.saved_mappings(agent().store)),
                error=message, http_status=422)


def _job(job_id: str) -> ImportJob:
    job = agent().imports.get(job_id)
    if job is None:
        abort(404)
    return job


@bp.route("/<job_id>", methods=["GET", "POST"])
def columns(job_id: str):
    """Which field each column fills; the kind of the rows; save the mapping for the source."""
    job = _job(job_id)
    if request.method == "POST":
        _update_mapping(job)
        if request.form.get("action") == "preview":
            return redirect(url_for("imports.preview", job_id=job.id), 303)
    return page("imports/columns.html", "columns", job=job, kinds=KINDS, samples=_samples(job),
                targets=mapping.targets(job.mapping.kind) if job.mapping.kind else (),
                field_label=forms.field_label)


def _update_mapping(job: ImportJob) -> None:
    kind = request.form.get("kind") or None
    kind = kind if kind in KINDS else None
    if kind != job.mapping.kind:
        job.mapping = mapping.recognise(job.table.headers, kind)
    else:
        allowed = set(mapping.targets(kind)) | {"kind"} if kind else set()
        job.mapping.columns = {h: (request.form.get(f"col{i}", "") if request.form.get(
            f"col{i}", "") in allowed else "") for i, h in enumerate(job.table.headers)}
    job.rows = []
    job.source = request.form.get("source", job.source).strip()
    if job.source and request.form.get("save") and request.form.get("action") == "preview":
        mapping.save_mapping(agent().store, job.source, job.mapping)
        flash(gettext("Mapping saved for “%(source)s”; it is used for this source's next "
                      "export.", source=job.source), "success")


def _samples(job: ImportJob) -> dict[str, list[str]]:
    return {h: [cells.get(h, "") for _line, cells in job.table.rows[:SAMPLES]]
            for h in job.table.headers}


@bp.get("/<job_id>/preview")
def preview(job_id: str):
    """Every row as it would be saved, with what is wrong in the rows that have mistakes."""
    job = _job(job_id)
    if not job.rows:
        job.rows = mapping.apply(job.mapping, job.table)
    checked = check_rows(job)
    bad = sum(1 for _line, _data, errors in checked if errors)
    only_bad = request.args.get("only") == "errors"
    shown = [c for c in checked if c[2]] if only_bad else checked
    pages = pager(len(shown))
    return page("imports/preview.html", "rows", job=job, rows=shown[pages.offset:][:pages.size],
                pager=pages, total=len(checked), bad=bad, only_bad=only_bad,
                field_label=forms.field_label)


def check_rows(job: ImportJob) -> list[tuple[int, dict, list[str]]]:
    identity = agent().store.identity()
    dealer = identity.dealer_code if identity else ""
    checked = []
    for line, data in group_part_lines([(n, unflatten(d)) for n, d in job.rows]):
        kind = data.get("kind") or job.mapping.kind
        errors = forms.check(kind or "", data, dealer, gettext)
        checked.append((line, data, [_line_error(kind, f, t) for f, ts in errors.items()
                                     for t in ts]))
    return checked


def _line_error(kind: str | None, name: str, text: str) -> str:
    msgid = forms.field_label(kind, name)
    return f"{gettext(msgid) if msgid else name}: {text}" if (msgid or name) else text


@bp.post("/<job_id>/run")
def run(job_id: str):
    """Import every row; rows with mistakes go to the quarantine, never lost."""
    job = _job(job_id)
    if not job.running:
        agent().run_import(job, job.rows or mapping.apply(job.mapping, job.table))
    return redirect(url_for("imports.progress", job_id=job.id), 303)


@bp.get("/<job_id>/progress")
def progress(job_id: str):
    job = _job(job_id)
    running = job.running  # read first: the report is complete once running is False
    counts = job.report.counts() if job.report and not running else {}
    return page("imports/progress.html", "progress", job=job, running=running, counts=counts)
