"""Exports of the benchmark and rollup tables: request, follow the progress, download."""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block

from common.i18n import N_, catalogue_name
from portal import access, db, navigation
from portal.auth import current_scope
from portal.pagination import parse_page
from portal.services import exports as service
from portal.services import rollups

bp = Blueprint("exports", __name__, url_prefix="/exports")
access.protect(bp, access.Access.dealer)
navigation.register("exports.index", N_("Exports"), order=90)


def _own_export(export_id: str):
    try:
        key = uuid.UUID(export_id)
    except ValueError:
        abort(404)
    export = service.get_export(db.session(), key, current_user)
    if export is None:
        abort(404)
    return export


@bp.post("/")
@login_required
def create():
    """Queue an export of a table and start it in the background."""
    from flask_babel import get_locale

    params = {k[2:]: v for k, v in request.form.items() if k.startswith("p_") and v != ""}
    try:
        export = service.request_export(
            db.session(), user=current_user, table_name=request.form.get("table", ""),
            fmt=request.form.get("fmt", ""), params=params)
    except service.ExportError as error:
        flash(_(str(error)), "error")
        return redirect(request.referrer or url_for("exports.index"), 303)
    service.start(db.engine(), export.id, current_scope(), current_app.config["DATA_DIR"],
                  catalogue_name(get_locale()))
    return redirect(url_for("exports.show", export_id=export.id), 303)


@bp.get("/")
@login_required
def index():
    """List the user's exports, newest first."""
    session = db.session()
    page = rollups.paginate(session, service.list_exports(session, current_user),
                            page=parse_page(request.args.get("page")),
                            size=current_app.config["PAGE_SIZE"])
    return render_template("metrics/exports.html", page=page, tables=service.TABLES)


@bp.get("/<export_id>")
@login_required
def show(export_id: str):
    """Show one export's progress; htmx polls the progress block every second."""
    export = _own_export(export_id)
    context = {"export": export, "tables": service.TABLES}
    if request.headers.get("HX-Request"):
        response = current_app.make_response(
            render_block("metrics/export.html", "progress", **context))
    else:
        response = current_app.make_response(render_template("metrics/export.html", **context))
    response.vary.add("HX-Request")
    return response


@bp.get("/<export_id>/download")
@login_required
def download(export_id: str):
    """Send the finished file to the user who asked for it (or their dealer)."""
    export = _own_export(export_id)
    if export.status != "done" or not export.file_path:
        abort(404)
    return send_file(export.file_path, as_attachment=True,
                     download_name=service.filename(export))
