"""Vehicle orders: list, create, detail, change and cancel; tracking; the pipeline."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from markupsafe import Markup

from common.enums import PRODUCTION_STAGES, Role, Stage
from common.i18n import N_
from common.validators import FieldError
from portal import access, db, navigation
from portal.auth import current_scope, roles_required
from portal.catalogue import _int, build_configurator
from portal.i18n import is_chinese, translated_label
from portal.pagination import parse_page
from portal.services import catalogue
from portal.services import orders as service
from portal.services import pipeline as pipeline_service
from portal.services.orders import Actor, LineInput, OrderError, OrderFilters, OrderInput

bp = Blueprint("orders", __name__)
access.protect(bp, access.Access.dealer)
navigation.register("orders.index", N_("Orders"), order=20)
navigation.register("orders.tracking", N_("Tracking"), order=21)
navigation.register("orders.pipeline", N_("Pipeline"), roles={Role.region_manager, Role.hq},
                    order=22)

DEALER_ROLES = (Role.dealer_staff, Role.dealer_manager)
PER_PAGE = 25


_BADGE_TONES = {Stage.cancelled: "bad", Stage.delivered: "good"}


@bp.app_template_global()
def stage_badge_tag(stage: str) -> Markup:
    """The badge of a production stage; the stage_badge macro (orders/_macros.html) wraps it.

    Built here rather than by the macro: the order list shows one per stage of each order.
    """
    return Markup('<span class="badge stage-%s %s" data-testid="stage">%s</span>') % (
        stage, _BADGE_TONES.get(stage, ""), translated_label(stage))


def _actor() -> Actor:
    return Actor(name=current_user.username, user_id=current_user.id,
                 hq=current_user.role == Role.hq)


def _hx() -> bool:
    return bool(request.headers.get("HX-Request"))


def _order_or_404(number: str):
    return service.get_order(session=db.session(), number=number) or abort(404)


def _error_text(error: FieldError) -> str:
    problem = getattr(error, "problem", None)
    return problem.render(_, is_chinese()) if problem else error.render(_)


# ---------------------------------------------------------------- list


def _filters(args) -> OrderFilters:
    return OrderFilters(status=args.get("status", ""), stage=args.get("stage", ""),
                        model_id=_int(args.get("model")), kind=args.get("kind", ""),
                        date_from=_date(args.get("from")), date_to=_date(args.get("to")),
                        q=args.get("q", "")[:60])


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.get("/orders")
@login_required
def index():
    """List the orders in view, filtered and paginated; htmx gets only the results."""
    session = db.session()
    page = parse_page(request.args.get("page"))
    result = service.list_orders(session=session, filters=_filters(request.args), page=page,
                                 per_page=PER_PAGE)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    context = {"result": result, "args": args, "stages": list(Stage),
               "models": catalogue.model_names(session=session),
               "can_order": current_user.role in DEALER_ROLES}
    if _hx():
        return render_block("orders/index.html", "results", **context)
    return render_template("orders/index.html", **context)


# ---------------------------------------------------------------- create


def _parse_line(raw: str) -> LineInput | None:
    try:
        data = json.loads(raw)
        return LineInput(int(data["model_id"]), data.get("trim"), data.get("colour"),
                         frozenset(map(str, data.get("options", []))), int(data["quantity"]))
    except (ValueError, KeyError, TypeError):
        return None


def _lines_from(form) -> list[LineInput]:
    return [line for line in map(_parse_line, form.getlist("line")) if line is not None]


def _line_rows(lines: list[LineInput]) -> list[dict]:
    """What the lines block shows per line: names, prices and the hidden value."""
    session = db.session()
    rows = []
    for line in lines:
        spec = catalogue.build_spec(session=session, model_id=line.model_id)
        verdict = catalogue.check_configuration(spec, line.selection)
        rows.append({"line": line, "spec": spec, "verdict": verdict,
                     "value": json.dumps({"model_id": line.model_id, "trim": line.trim,
                                          "colour": line.colour,
                                          "options": sorted(line.options),
                                          "quantity": line.quantity})})
    return rows


def _order_input(form, lines: list[LineInput]) -> OrderInput:
    lead = form.get("lead_id", "").strip()
    try:
        lead_id = uuid.UUID(lead) if lead else None
    except ValueError as error:
        raise OrderError("lead", N_("The lead reference is not valid."), "lead_id") from error
    return OrderInput(kind=form.get("kind", ""), delivery_point=form.get("delivery_point", ""),
                      lines=tuple(lines), customer_name=form.get("customer_name", "")[:100],
                      customer_phone=form.get("customer_phone", "").strip(), lead_id=lead_id,
                      priority=form.get("priority", "normal"), notes=form.get("notes", "")[:2000])


@bp.route("/orders/new", methods=["GET", "POST"])
@access.dealer_scoped(*DEALER_ROLES)
@roles_required(*DEALER_ROLES)
def new():
    """Show the order form with the configurator; save the order on POST."""
    session = db.session()
    lines = _lines_from(request.form) if request.method == "POST" else []
    error = None
    if request.method == "POST":
        try:
            order = service.create_order(session=session, dealer_id=current_user.dealer_id,
                                         data=_order_input(request.form, lines), actor=_actor())
        except FieldError as exc:
            session.rollback()
            error = exc
        else:
            session.commit()
            flash(_("Order %(number)s placed.", number=order.number), "info")
            return redirect(url_for("orders.detail", number=order.number), 303)
    return render_template(
        "orders/new.html", cfg=build_configurator(session, request.args), rows=_line_rows(lines),
        form=request.form, error=error and _error_text(error),
        error_field=getattr(error, "field", "")), 400 if error else 200


@bp.post("/orders/new/lines")
@access.dealer_scoped(*DEALER_ROLES)
@roles_required(*DEALER_ROLES)
def add_line():
    """Add the configured vehicle to the order's lines (htmx), or explain why not."""
    lines, message = _lines_from(request.form), None
    remove = _int(request.form.get("remove"))
    if remove is not None:
        lines = [line for i, line in enumerate(lines) if i != remove]
    else:
        cfg = build_configurator(db.session(), request.form)
        if cfg.verdict is None or not cfg.verdict.ok:
            problems = cfg.verdict.problems if cfg.verdict else ()
            message = cfg.explain(problems[0]) if problems else _("Choose a brand and a model.")
        else:
            lines.append(LineInput(cfg.spec.model_id, cfg.selection.trim, cfg.selection.colour,
                                   cfg.selection.options, cfg.quantity))
    return render_block("orders/new.html", "lines", rows=_line_rows(lines), line_error=message)


# ---------------------------------------------------------------- detail, change, cancel


def _vehicle_rows(vehicles, now):
    """Each vehicle with its windows (the stage and ETA histories are the vehicle page's)."""
    return [{"vehicle": v, "can_change": service.can_change(v.stage),
             "can_cancel": service.can_cancel(v.stage),
             "body_at": service.expected_entry(v, Stage.body),
             "paint_at": service.expected_entry(v, Stage.paint),
             "stuck": service.is_stuck(v, now)} for v in vehicles]


@bp.get("/orders/<number>")
@login_required
def detail(number: str):
    """Show an order: lines, each vehicle's stage and windows, and the audit trail."""
    session = db.session()
    order, lines, vehicles = (service.order_with_vehicles(session=session, number=number)
                              or abort(404))
    return render_template(
        "orders/detail.html", order=order, lines=lines, total=service.unit_price_total(lines),
        vehicles=_vehicle_rows(vehicles, dt.datetime.now(dt.UTC)),
        trail=service.audit_trail(session, order), can_act=_can_act(),
        is_hq=current_user.role == Role.hq, stages=PRODUCTION_STAGES)


def _can_act() -> bool:
    return current_user.role in (*DEALER_ROLES, Role.hq)


@bp.route("/orders/<number>/lines/<int:line_no>/change", methods=["GET", "POST"])
@access.dealer_scoped(*DEALER_ROLES, Role.hq)
@roles_required(*DEALER_ROLES, Role.hq)
def change(number: str, line_no: int):
    """Change a line's configuration while its vehicles are before body."""
    session = db.session()
    order = _order_or_404(number)
    line = session.get(service.OrderLine, (order.dealer_id, order.id, line_no)) or abort(404)
    args = request.form if request.method == "POST" else request.args
    if request.method == "GET" and "trim" not in args:
        args = _line_args(line)
    cfg = build_configurator(session, args, fixed_model=True)
    if request.method == "POST":
        try:
            service.change_line(session=session, order=order, line_no=line_no,
                                selection=cfg.selection, actor=_actor(),
                                reason=request.form.get("reason", "")[:500])
        except FieldError as error:
            session.rollback()
            return render_template("orders/change.html", order=order, line=line, cfg=cfg,
                                   error=_error_text(error)), 400
        session.commit()
        flash(_("Line %(line)d changed.", line=line_no), "info")
        return redirect(url_for("orders.detail", number=number), 303)
    return render_template("orders/change.html", order=order, line=line, cfg=cfg, error=None)


def _line_args(line):
    from werkzeug.datastructures import MultiDict

    pairs = [("model", str(line.model_id)), ("trim", line.trim_code),
             ("colour", line.colour_code), ("fixed", "1")]
    return MultiDict(pairs + [("option", code) for code in line.option_codes])


@bp.post("/orders/<number>/vehicles/<int:line_no>/<int:unit>/cancel")
@access.dealer_scoped(*DEALER_ROLES, Role.hq)
@roles_required(*DEALER_ROLES, Role.hq)
def cancel_vehicle(number: str, line_no: int, unit: int):
    """Cancel one vehicle (before paint, or later as an HQ override with a reason)."""
    session = db.session()
    order = _order_or_404(number)
    try:
        service.cancel_vehicle(session=session, order=order, line_no=line_no, unit=unit,
                               actor=_actor(), reason=request.form.get("reason", "")[:500])
    except FieldError as error:
        session.rollback()
        flash(_error_text(error), "error")
    else:
        session.commit()
        flash(_("Vehicle %(line)d-%(unit)d cancelled.", line=line_no, unit=unit), "info")
    return redirect(url_for("orders.detail", number=number), 303)


@bp.post("/orders/<number>/cancel")
@access.dealer_scoped(*DEALER_ROLES, Role.hq)
@roles_required(*DEALER_ROLES, Role.hq)
def cancel_order(number: str):
    """Cancel every vehicle of the order that is still before paint."""
    session = db.session()
    order = _order_or_404(number)
    done, left = service.cancel_order(session=session, order=order, actor=_actor(),
                                      reason=request.form.get("reason", "")[:500])
    session.commit()
    flash(_("%(done)d vehicles cancelled; %(left)d are past paint and keep running.",
            done=done, left=left), "info" if not left else "error")
    return redirect(url_for("orders.detail", number=number), 303)


# ---------------------------------------------------------------- tracking


@bp.get("/orders/<number>/vehicles/<int:line_no>/<int:unit>")
@login_required
def vehicle(number: str, line_no: int, unit: int):
    """One vehicle's timeline and ETA history; htmx polls the timeline block."""
    session = db.session()
    order = _order_or_404(number)
    found = [v for v in service.vehicles_of(session, order, line_no) if v.unit == unit]
    if not found:
        abort(404)
    view = service.vehicle_views(session, order, found)[0]
    line = session.get(service.OrderLine, (order.dealer_id, order.id, line_no))
    context = {"order": order, "line": line, "view": view, "stages": PRODUCTION_STAGES,
               "now": dt.datetime.now(dt.UTC), "stuck": service.is_stuck(view.vehicle,
                                                                          dt.datetime.now(dt.UTC))}
    if _hx():
        return render_block("orders/vehicle.html", "timeline", **context)
    return render_template("orders/vehicle.html", **context)


@bp.get("/tracking")
@login_required
def tracking():
    """Find vehicles by order number or VIN."""
    q = request.args.get("q", "")[:40]
    found = service.find_vehicles(session=db.session(), q=q)
    if len(found) == 1:
        order, vehicle = found[0]
        return redirect(url_for("orders.vehicle", number=order.number, line_no=vehicle.line,
                                unit=vehicle.unit), 303)
    return render_template("orders/tracking.html", q=q, found=found)


# ---------------------------------------------------------------- pipeline


@bp.get("/pipeline")
@access.region_scoped()
@roles_required(Role.region_manager, Role.hq)
def pipeline():
    """Counts of vehicles by stage per region and per model, and the vehicles stuck."""
    session = db.session()
    now = dt.datetime.now(dt.UTC)
    page = parse_page(request.args.get("page"))
    scope = current_scope()
    return render_template(
        "orders/pipeline.html", stages=[s for s in PRODUCTION_STAGES if s != Stage.delivered],
        by_region=pipeline_service.by_region(session=session, dealer_ids=scope.dealer_ids),
        by_model=pipeline_service.by_model(session=session),
        stuck=pipeline_service.stuck(session=session, now=now, page=page, per_page=PER_PAGE),
        expected=service.EXPECTED_DURATION, factor=service.STUCK_FACTOR)
