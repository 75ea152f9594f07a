"""The landing page after login: this month at a glance, within the user's scope."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from portal import access, db
from portal.auth import current_scope
from portal.models import Dealer
from portal.services import dashboard as service

bp = Blueprint("dashboard", __name__)
access.protect(bp, access.Access.dealer)


@bp.get("/")
@login_required
def index():
    """Show this month's figures for the dealers the user may see."""
    session = db.session()
    now = dt.datetime.now(dt.UTC)
    summary = service.summary(session=session, today=now.date(), now=now)
    dealer = session.get(Dealer, current_user.dealer_id) if current_user.dealer_id else None
    scope = current_scope()
    dealer_count = None if dealer else len(
        service.visible_dealers(session=session, dealer_ids=scope.dealer_ids)
    )
    return render_template(
        "dashboard.html", summary=summary, dealer=dealer, dealer_count=dealer_count
    )
