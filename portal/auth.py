"""Logging in and out, roles, and the tenancy scope of the logged-in user."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlmodel import Session, select
from werkzeug.security import check_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from common.enums import Role
from common.i18n import LOCALES
from portal import access, db
from portal.models import Dealer, User
from portal.security import login_manager
from portal.tenancy import Scope

bp = Blueprint("auth", __name__)
access.protect(bp, access.Access.public)


class LoginForm(FlaskForm):
    username = StringField("username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=200)])


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load the logged-in user; runs before any scope exists, so it uses a system session."""
    with db.system_session("login") as session:
        user = session.get(User, int(user_id))
    return user if user is not None and user.active else None


def scope_for(session: Session, user: User) -> Scope:
    """Return the dealers *user* may see: their own, their region's, or all for HQ."""
    if user.role == Role.hq:
        return Scope.everything(user.username)
    if user.role == Role.region_manager:
        ids = session.exec(select(Dealer.id).where(Dealer.region_id == user.region_id)).all()
        return Scope.dealers(ids, user.username)
    return Scope.dealers([user.dealer_id] if user.dealer_id else [], user.username)


def current_scope() -> Scope | None:
    """The scope of whoever makes this request: an agent, a user, or nobody."""
    if "scope" in g:
        return g.scope
    if current_user.is_authenticated:
        g.scope = scope_for(db.session(), current_user)
        return g.scope
    return None


def roles_required(*roles: Role) -> Callable:
    """Allow the view only to logged-in users holding one of *roles*."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def authenticate(session: Session, username: str, password: str) -> User | None:
    """Return the active user with these credentials, or None."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form and log the user in."""
    form = LoginForm()
    if form.validate_on_submit():
        with db.system_session("login") as login_session:
            user = authenticate(login_session, form.username.data, form.password.data)
        if user is not None:
            locale = session.get("locale")
            session.clear()  # a fresh session on login: no fixation
            if locale:
                session["locale"] = locale
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Wrong username or password."), "error")
    return render_template("login.html", form=form), 200 if request.method == "GET" else 400


@bp.post("/logout")
@access.any_user
@login_required
def logout():
    """Log out and return to the login page."""
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/locale/<code>")
def set_locale(code: str):
    """Remember the language the user picked."""
    if code in LOCALES:
        session["locale"] = code
    return redirect(_safe_next(request.form.get("next")), 303)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("dashboard.index")
