"""HQ and region rollups: sales, repairs, parts and the order pipeline, each drilling down."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from common.enums import Role, Stage
from common.i18n import N_
from portal import access, charts, db, navigation
from portal.auth import current_scope, roles_required
from portal.models import Dealer
from portal.pagination import parse_page
from portal.scorecard import READERS, now
from portal.services import metrics as m
from portal.services import rollups as service

bp = Blueprint("rollups", __name__, url_prefix="/rollups")
access.protect(bp, access.Access.region)
navigation.register("rollups.index", N_("Rollups"), READERS, order=61)


def filters_from_request() -> service.Filters:
    """The filters of ?first=&last=&region=&dealer=&brand=&model=, checked against the scope.

    A region or dealer outside the user's scope answers 404, like a missing one.
    """
    months = m.last_months(now().date())
    args = request.args
    first, last = _month(args.get("first"), months[0]), _month(args.get("last"), months[-1])
    region_id, dealer_id = args.get("region", type=int), args.get("dealer", type=int)
    if dealer_id is not None and not current_scope().allows(dealer_id):
        abort(404)
    if region_id is not None and current_user.role == Role.region_manager \
            and region_id != current_user.region_id:
        abort(404)
    return service.Filters(min(first, last), max(first, last), region_id, dealer_id,
                           args.get("brand"), args.get("model"))


def _month(value: str | None, default):
    try:
        return service.parse_month(value) if value else default
    except (ValueError, IndexError):
        return default


@bp.get("/")
@roles_required(*READERS)
def index():
    """Sales, repairs, parts and pipeline by month, region, dealer and model."""
    filters, session = filters_from_request(), db.session()
    size, page = current_app.config["PAGE_SIZE"], parse_page(request.args.get("page"))
    dealer_total = service.count_groups(session, filters, "dealer")
    page = max(1, min(page, max(1, -(-dealer_total // size))))
    by = {dim: service.volumes_by(session, filters, dim) for dim in ("month", "region", "model")}
    by["dealer"] = service.volumes_by(session, filters, "dealer", limit=size,
                                      offset=(page - 1) * size)
    return render_template(
        "metrics/rollups.html", f=filters, by=by, parts=service.top_parts(session, filters),
        pipeline=service.pipeline(session, filters), stages=list(Stage),
        page=service.Page(by["dealer"].rows, page, size, dealer_total),
        regions=service.region_names(session), as_of=m.data_as_of(session),
        dealers=service.dealer_names(session, [r["key"] for r in by["dealer"].rows]),
        filter_dealer=session.get(Dealer, filters.dealer_id) if filters.dealer_id else None,
        chart=_month_chart(by["month"]))


def _month_chart(rollup: service.Rollup):
    labels = [r["key"].strftime("%y-%m") for r in rollup.rows]
    return charts.line_chart(_("Sales and repair orders per month"), labels, [
        (_("Sales"), [r["sales"] for r in rollup.rows]),
        (_("Repair orders"), [r["repairs"] for r in rollup.rows])])


def _records(title: str, stmt, kind: str, **extra):
    session, size = db.session(), current_app.config["PAGE_SIZE"]
    page = service.paginate(session, stmt, page=parse_page(request.args.get("page")), size=size)
    dealers = service.dealer_names(session, {_dealer_of(r) for r in page.items})
    return render_template("metrics/records.html", title=title, page=page, kind=kind,
                           dealers=dealers, f=filters_from_request(), **extra)


def _dealer_of(row) -> int:
    return row[0].dealer_id if isinstance(row, tuple) or hasattr(row, "_mapping") \
        else row.dealer_id


@bp.get("/sales")
@roles_required(*READERS)
def sales():
    """The sales behind a sales figure."""
    return _records(_("Sales"), service.sales_query(filters_from_request()), "sales")


@bp.get("/repairs")
@roles_required(*READERS)
def repairs():
    """The repair orders behind a repairs or parts figure."""
    part = request.args.get("part")
    stmt = service.repairs_query(filters_from_request(), part)
    return _records(_("Repair orders"), stmt, "repairs", part=part)


@bp.get("/pipeline/<stage>")
@roles_required(*READERS)
def pipeline(stage: str):
    """The ordered vehicles at one production stage."""
    if stage not in Stage.__members__:
        abort(404)
    stmt = service.pipeline_query(filters_from_request(), stage)
    return _records(_("Ordered vehicles"), stmt, "pipeline", stage=Stage(stage))
