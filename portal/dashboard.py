"""The landing page after login: this month at a glance, within the user's scope."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from portal import access, db
from portal.services import dashboard as service
from portal.services import metrics as m

bp = Blueprint("dashboard", __name__)
access.protect(bp, access.Access.dealer)

# HQ and region figures count this month's records of hundreds of dealers (tens of ms of
# database work over 5 M records): each process keeps them 30 s per scope (max_age 0: count on
# every request), and the page says when they were counted.
_MANY_DEALERS = m.Memo(32, max_age=30)


@bp.get("/")
@login_required
def index():
    """Show this month's figures for the dealers the user may see."""
    session = db.session()
    now = dt.datetime.now(dt.UTC)
    if current_user.dealer_id is None:
        summary, dealer_count, as_of = _many_dealers(session, now)
        return render_template("dashboard.html", summary=summary, dealer=None,
                               dealer_count=dealer_count, as_of=as_of)
    summary, names = service.dealer_summary(session=session, dealer_id=current_user.dealer_id,
                                            today=now.date(), now=now)
    return render_template("dashboard.html", summary=summary, dealer=names, dealer_count=None)


def _many_dealers(session, now: dt.datetime) -> tuple[service.Summary, int, dt.datetime]:
    """The summary and dealer count of an HQ or region scope, and when they were counted."""
    def count():
        dealers = service.visible_dealers(session=session, dealer_ids=m.scope_key(session))
        return service.summary(session=session, today=now.date(), now=now), len(dealers), now

    return _MANY_DEALERS.get(session, ("dashboard", m.scope_key(session), now.date()), count)
