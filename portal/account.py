"""The logged-in user's own account: changing the password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import EqualTo, InputRequired, Length

from common.i18n import N_
from portal import access, db, navigation
from portal.auth import start_session
from portal.models import User
from portal.services import security
from portal.services.users import MIN_PASSWORD_LENGTH, UserError

bp = Blueprint("account", __name__, url_prefix="/account")
access.protect(bp, access.Access.user)
navigation.register("account.password", N_("My password"), order=99)


class PasswordForm(FlaskForm):
    current = PasswordField(validators=[InputRequired(_l("Enter your current password.")),
                                        Length(max=200)])
    new = PasswordField(validators=[InputRequired(_l("Enter a new password.")),
                                    Length(max=200)])
    confirm = PasswordField(validators=[
        InputRequired(_l("Repeat the new password.")),
        EqualTo("new", _l("The two new passwords differ."))])


@bp.route("/password", methods=["GET", "POST"])
def password():
    """Change my password; every other session of my login ends."""
    form = PasswordForm()
    if form.validate_on_submit():
        session = db.session()
        user = session.get(User, current_user.id)
        try:
            security.change_password(session=session, user=user, current=form.current.data,
                                     new=form.new.data)
        except UserError as error:
            getattr(form, error.field, form.new).errors.append(error.render(_))
        else:
            session.commit()
            start_session(user)
            flash(_("Your password was changed."), "success")
            return redirect(url_for("dashboard.index"), 303)
    return render_template("account/password.html", form=form,
                           min_password_length=MIN_PASSWORD_LENGTH), 400 if form.errors else 200
