"""The configurator (htmx) for dealers and the catalogue editor for HQ."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from sqlmodel import Session, select

from common.enums import Role
from common.i18n import N_
from portal import access, db, navigation
from portal.auth import roles_required
from portal.i18n import is_chinese
from portal.models import Brand, CarModel, CatalogueRule
from portal.pagination import parse_page
from portal.services import catalogue as service
from portal.services.catalogue import CatalogueError, Item, ModelSpec, Selection, Verdict

bp = Blueprint("catalogue", __name__)
access.protect(bp, access.Access.hq)
navigation.register("catalogue.index", N_("Catalogue"), roles={Role.hq}, order=60)


# ---------------------------------------------------------------- the configurator


@dataclass
class Configurator:
    """What the configurator shows for the current picks."""

    brands: list[Brand]
    brand_id: int | None = None
    models: list[CarModel] = field(default_factory=list)
    spec: ModelSpec | None = None
    selection: Selection = Selection()
    verdict: Verdict | None = None
    quantity: int = 1
    fixed_model: bool = False

    def colours(self) -> list[tuple[Item, bool]]:
        """Colours offered on the trim, plus the picked one even if it is not offered."""
        trim, picked = self.selection.trim, self.selection.colour
        return [(c, service.offered(self.spec, c, trim)) for c in self.spec.colours
                if service.offered(self.spec, c, trim) or c.code == picked]

    def options(self) -> list[tuple[Item, bool, tuple]]:
        """(option, offered on the trim, hints of rules it would break) for each option."""
        trim, picked = self.selection.trim, self.selection.options
        rows = []
        for option in self.spec.options:
            is_offered = service.offered(self.spec, option, trim)
            if is_offered or option.code in picked:
                rows.append((option, is_offered,
                             service.option_hints(self.spec, option, self.selection)))
        return rows

    def explain(self, problem) -> str:
        return problem.render(_, is_chinese())


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def build_configurator(session: Session, args, fixed_model: bool = False) -> Configurator:
    """Narrow the picks step by step: brand → model → trim → colour and options."""
    model = session.get(CarModel, _int(args.get("model")) or 0)
    brand_id = model.brand_id if fixed_model and model else _int(args.get("brand"))
    if model is not None and (not model.active or (brand_id and model.brand_id != brand_id)):
        model = None
    state = Configurator(brands=service.brands(session=session), brand_id=brand_id,
                         fixed_model=fixed_model, quantity=max(1, min(_int(args.get("qty")) or 1,
                                                                      50)))
    state.models = service.models(session=session, brand_id=brand_id) if brand_id else []
    if model is None:
        return state
    state.spec = service.build_spec(session=session, model_id=model.id)
    state.selection = _selection(state.spec, args)
    state.verdict = service.check_configuration(state.spec, state.selection)
    return state


def _selection(spec: ModelSpec, args) -> Selection:
    trims = {t.code for t in spec.trims}
    trim = args.get("trim") if args.get("trim") in trims else None
    colour = args.get("colour") if spec.item(f"colour:{args.get('colour')}") else None
    options = {o for o in args.getlist("option") if spec.item(f"option:{o}")}
    action, _sep, code = (args.get("apply") or "").partition(":")
    if action == "set_trim" and code in trims:
        trim = code
    elif action == "set_colour" and spec.item(f"colour:{code}"):
        colour = code
    elif action == "add_option" and spec.item(f"option:{code}"):
        options.add(code)
    elif action == "remove_option":
        options.discard(code)
    return Selection(trim, colour, frozenset(options))


@bp.get("/configure")
@access.any_user
@login_required
def configure():
    """Show the configurator; an htmx request gets only the configurator block."""
    state = build_configurator(db.session(), request.args, fixed_model=bool(request.args.get(
        "fixed")))
    if request.headers.get("HX-Request"):
        return render_block("catalogue/configure.html", "configurator", cfg=state)
    return render_template("catalogue/configure.html", cfg=state)


# ---------------------------------------------------------------- HQ editing

PER_PAGE = 20


@bp.get("/catalogue")
@roles_required(Role.hq)
def index():
    """List the models of the catalogue by brand."""
    session = db.session()
    page = parse_page(request.args.get("page"))
    everything = [(b, m) for b in session.exec(_all(Brand)).all()
                  for m in service.models_all(session=session, brand_id=b.id)]
    rows = everything[(page - 1) * PER_PAGE: page * PER_PAGE]
    pages = max(1, -(-len(everything) // PER_PAGE))
    return render_template("catalogue/index.html", rows=rows, page=page, pages=pages)


def _all(table):
    return select(table).order_by(table.sort, table.id)


@bp.get("/catalogue/models/<int:model_id>")
@roles_required(Role.hq)
def model(model_id: int):
    """Show one model's trims, colours, options and rules with their edit forms."""
    session = db.session()
    car = session.get(CarModel, model_id) or abort(404)
    spec = service.build_spec(session=session, model_id=model_id, include_inactive=True)
    return render_template(
        "catalogue/model.html", car=car, brand=session.get(Brand, car.brand_id), spec=spec,
        rows=service.item_rows(session=session, model_id=model_id),
        rules=service.rules_of(session=session, model_id=model_id),
        kinds=service.RULE_KINDS)


@bp.post("/catalogue/models/<int:model_id>/items/<kind>")
@roles_required(Role.hq)
def save_item(model_id: int, kind: str):
    """Add or change a trim, colour or option."""
    if kind not in service.ITEM_TABLES:
        abort(404)
    form = request.form
    data = service.ItemInput(code=form.get("code", "").strip(), name_zh=form.get("name_zh", ""),
                             name_en=form.get("name_en", ""), price=form.get("price", ""),
                             active=form.get("active") == "1")
    return _apply(model_id, lambda session: service.save_item(
        session=session, kind=kind, model_id=model_id, data=data,
        actor=current_user.username, item_id=_int(form.get("item_id"))),
        _("Saved; the change is on its way to the dealers' agents."))


@bp.post("/catalogue/models/<int:model_id>/rules")
@roles_required(Role.hq)
def add_rule(model_id: int):
    """Add a validity rule."""
    form = request.form
    return _apply(model_id, lambda session: service.add_rule(
        session=session, model_id=model_id, kind=form.get("kind", ""),
        subject=form.get("subject", ""), target=form.get("target", ""),
        actor=current_user.username), _("Rule added."))


def _apply(model_id: int, change, done: str):
    """Run *change* and commit, or roll back and explain; then back to the model's page."""
    session = db.session()
    try:
        change(session)
    except CatalogueError as error:
        session.rollback()
        flash(error.render(_), "error")
    else:
        session.commit()
        flash(done, "info")
    return redirect(url_for("catalogue.model", model_id=model_id), 303)


@bp.post("/catalogue/rules/<int:rule_id>/active")
@roles_required(Role.hq)
def toggle_rule(rule_id: int):
    """Switch a rule on or off."""
    session = db.session()
    rule = session.get(CatalogueRule, rule_id) or abort(404)
    service.set_rule_active(session=session, rule_id=rule_id,
                            active=request.form.get("active") == "1",
                            actor=current_user.username)
    session.commit()
    return redirect(url_for("catalogue.model", model_id=rule.model_id), 303)
