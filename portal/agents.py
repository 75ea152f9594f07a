"""The agents page: freshness of each dealer's sync agents, enrolment codes, revocation."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from jinja2_fragments.flask import render_block
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from common.enums import Role
from common.i18n import N_
from portal import access, db, navigation
from portal.auth import roles_required
from portal.models import Dealer, utcnow
from portal.pagination import parse_page
from portal.services import agents as service
from portal.services.sync import count_receipts

bp = Blueprint("agents", __name__, url_prefix="/agents")
access.protect(bp, access.Access.dealer)
MANAGERS = (Role.dealer_manager, Role.hq)
navigation.register("agents.index", N_("Agents"), order=80)


class IssueForm(FlaskForm):
    dealer_code = StringField(N_("Dealer code"), validators=[Optional(), Length(max=20)])
    hours = IntegerField(N_("Valid for (hours)"), default=service.DEFAULT_CODE_HOURS,
                         validators=[InputRequired(N_("Enter how many hours the code is valid.")),
                                     NumberRange(1, service.MAX_CODE_HOURS,
                                                 N_("Between 1 and 168 hours."))])


def _page_arg() -> int:
    return parse_page(request.args.get("page"))


def _render_index(form: IssueForm, issued: service.IssuedCode | None = None, status: int = 200):
    listing = service.list_agents(session=db.session(), page=_page_arg(),
                                  per_page=current_app.config["PAGE_SIZE"])
    context = {"listing": listing, "form": form, "issued": issued, "now": utcnow(),
               "is_silent": service.is_silent, "can_manage": current_user.role in MANAGERS}
    if request.headers.get("HX-Request"):
        block = "enrollment" if request.method == "POST" else "agents"
        return render_block("agents/index.html", block, **context), status
    return render_template("agents/index.html", **context), status


@bp.get("/")
@login_required
def index():
    """List the agents in the user's scope, silent ones flagged."""
    return _render_index(IssueForm())


@bp.post("/enrollments")
@access.dealer_scoped(*MANAGERS)
@roles_required(*MANAGERS)
def issue():
    """Issue a one-time enrolment code and show it once."""
    form = IssueForm()
    if not form.validate_on_submit():
        return _render_index(form, status=400)
    session = db.session()
    dealer = _target_dealer(form)
    if dealer is None:
        return _render_index(form, status=400)
    issued = service.issue_enrollment(session=session, dealer=dealer, hours=form.hours.data,
                                      user_id=current_user.id, actor=current_user.username)
    session.commit()
    return _render_index(IssueForm(formdata=None), issued=issued)


def _target_dealer(form: IssueForm) -> Dealer | None:
    """A dealer manager issues for their dealer; HQ names the dealer."""
    session = db.session()
    if current_user.role != Role.hq:
        return session.get(Dealer, current_user.dealer_id)
    code = (form.dealer_code.data or "").strip()
    dealer = service.dealer_by_code(session=session, code=code) if code else None
    if dealer is None:
        form.dealer_code.errors.append(
            _("Enter the code of an existing dealer.") if not code
            else _("No dealer has the code %(code)s.", code=code))
    return dealer


@bp.get("/<uuid:agent_id>")
@login_required
def detail(agent_id: uuid.UUID):
    """One agent's status and its log of rejected records."""
    session = db.session()
    agent = service.get_agent(session=session, agent_id=agent_id) or abort(404)
    rejections = service.list_rejections(session=session, agent=agent, page=_page_arg(),
                                         per_page=current_app.config["PAGE_SIZE"])
    context = {"agent": agent, "dealer": session.get(Dealer, agent.dealer_id),
               "rejections": rejections, "receipts": count_receipts(session=session, agent=agent),
               "silent": service.is_silent(agent, utcnow()),
               "can_manage": current_user.role in MANAGERS}
    if request.headers.get("HX-Request"):
        return render_block("agents/detail.html", "rejections", **context)
    return render_template("agents/detail.html", **context)


@bp.route("/<uuid:agent_id>/revoke", methods=["GET", "POST"])
@access.dealer_scoped(*MANAGERS)
@roles_required(*MANAGERS)
def revoke(agent_id: uuid.UUID):
    """Ask for confirmation, then revoke the agent's token."""
    session = db.session()
    agent = service.get_agent(session=session, agent_id=agent_id) or abort(404)
    if request.method == "GET" or agent.revoked_at is not None:
        return render_template("agents/revoke.html", agent=agent, form=FlaskForm())
    if not FlaskForm().validate_on_submit():
        abort(400)
    service.revoke(session=session, agent=agent, user_id=current_user.id,
                   actor=current_user.username)
    session.commit()
    flash(_("Agent %(name)s was revoked; it can no longer sync.", name=agent.name), "info")
    return redirect(url_for("agents.index"), 303)
