"""Users: dealer managers manage their dealer's logins, HQ everyone's, region managers read."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlmodel import select
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from common.enums import Role
from common.i18n import N_
from portal import access, db, navigation
from portal.auth import roles_required
from portal.i18n import translated_label
from portal.models import Region, User
from portal.pagination import parse_page
from portal.services import users as service

bp = Blueprint("users", __name__, url_prefix="/users")
VIEW_ROLES = (Role.dealer_manager, Role.region_manager, Role.hq)
access.protect(bp, access.Access.dealer, *VIEW_ROLES)
navigation.register("users.index", N_("Users"), VIEW_ROLES, order=90)


class CreateUserForm(FlaskForm):
    username = StringField(validators=[
        InputRequired(_l("Enter a username.")),
        Length(3, 80, _l("A username has 3 to 80 characters.")),
        Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Use only letters, digits, '.', '-' or '_'.")),
    ])
    display_name = StringField(validators=[
        InputRequired(_l("Enter the person's name.")),
        Length(max=100, message=_l("At most 100 characters.")),
    ])
    password = PasswordField(validators=[InputRequired(_l("Enter a password."))])
    role = SelectField(validate_choice=False)
    dealer_code = StringField(validators=[Optional(), Length(max=20)])
    region_code = SelectField(validate_choice=False)


class RoleForm(FlaskForm):
    role = SelectField(validate_choice=False)


class ActiveForm(FlaskForm):
    active = HiddenField()


@bp.get("/")
@roles_required(*VIEW_ROLES)
def index():
    """List the logins the user may see, a page at a time."""
    page = service.list_users(session=db.session(), page=parse_page(request.args.get("page")),
                              page_size=current_app.config["PAGE_SIZE"])
    can_create = bool(service.assignable_roles(current_user))
    return render_template("users/index.html", page=page, can_create=can_create)


@bp.route("/new", methods=["GET", "POST"])
@access.dealer_scoped(*service.MANAGER_ROLES)
@roles_required(*service.MANAGER_ROLES)
def new():
    """Create a login with a role the manager may give."""
    form = _with_choices(CreateUserForm())
    if form.validate_on_submit():
        session = db.session()
        try:
            user = service.create_user_as(
                session=session, actor=current_user, role=_role(form.role.data),
                username=form.username.data.strip(), password=form.password.data,
                display_name=form.display_name.data.strip(),
                dealer_code=form.dealer_code.data or None,
                region_code=form.region_code.data or None)
        except service.UserError as error:
            _show_error(form, error)
        else:
            session.commit()
            flash(_("The login %(username)s was created.", username=user.username), "success")
            return redirect(url_for("users.detail", user_id=user.id), 303)
    return render_template("users/new.html", form=form,
                           min_password_length=service.MIN_PASSWORD_LENGTH), (
        400 if form.errors else 200)


@bp.get("/<int:user_id>")
@roles_required(*VIEW_ROLES)
def detail(user_id: int):
    """Show one login with its history and, for managers, the forms to change it."""
    return _render_detail(_get_or_404(user_id))


@bp.post("/<int:user_id>/role")
@access.dealer_scoped(*service.MANAGER_ROLES)
@roles_required(*service.MANAGER_ROLES)
def change_role(user_id: int):
    """Give a login another role."""
    user, form = _get_or_404(user_id), _with_choices(RoleForm())
    if not form.validate_on_submit():
        return _render_detail(user, role_form=form, status=400)
    try:
        service.change_role(session=db.session(), actor=current_user, user=user,
                            role=_role(form.role.data))
    except service.UserError as error:
        _show_error(form, error)
        return _render_detail(user, role_form=form, status=400)
    db.session().commit()
    flash(_("The role was changed."), "success")
    return redirect(url_for("users.detail", user_id=user.id), 303)


@bp.post("/<int:user_id>/active")
@access.dealer_scoped(*service.MANAGER_ROLES)
@roles_required(*service.MANAGER_ROLES)
def set_active(user_id: int):
    """Deactivate or reactivate a login."""
    user, form = _get_or_404(user_id), ActiveForm()
    if not form.validate_on_submit():
        return _render_detail(user, status=400)
    try:
        service.set_active(session=db.session(), actor=current_user, user=user,
                           active=form.active.data == "1")
    except service.UserError as error:
        flash(error.render(_), "error")
        return _render_detail(user, status=400)
    db.session().commit()
    flash(_("The login is active.") if user.active else _("The login was deactivated."), "success")
    return redirect(url_for("users.detail", user_id=user.id), 303)


def _get_or_404(user_id: int) -> User:
    """Another dealer's login is invisible through the tenancy layer, so it is simply not found."""
    user = db.session().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _render_detail(user: User, role_form: RoleForm | None = None, status: int = 200):
    role_form = role_form or _with_choices(RoleForm(role=str(user.role)))
    may_change = current_user.role in service.MANAGER_ROLES and current_user.id != user.id
    history = service.user_audit(session=db.session(), user=user)
    return render_template("users/detail.html", user=user, role_form=role_form,
                           active_form=ActiveForm(active="0" if user.active else "1"),
                           may_change=may_change,
                           history=history, action_labels=service.ACTION_LABELS), status


def _with_choices(form):
    """Offer the roles the current user may give, and (for HQ) the regions."""
    form.role.choices = [(r.value, translated_label(r))
                         for r in service.assignable_roles(current_user)]
    if hasattr(form, "region_code") and current_user.role == Role.hq:
        regions = db.session().exec(select(Region).order_by(Region.code)).all()
        form.region_code.choices = [("", "—")] + [(r.code, r.code) for r in regions]
    return form


def _role(value: str | None) -> Role:
    if value not in Role.__members__:
        raise service.UserError(N_("Choose a role."), "role")
    return Role(value)


def _show_error(form: FlaskForm, error: service.UserError) -> None:
    """Show a service refusal next to its field, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.render(_)]
    else:
        form.form_errors.append(error.render(_))
