"""The audit log page: HQ sees every entry, a dealer manager their dealer's (the tenancy layer)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, render_template, request
from jinja2_fragments.flask import render_block

from common.enums import Role
from common.i18n import N_
from portal import access, db, navigation
from portal.pagination import parse_page
from portal.services import security as service

bp = Blueprint("audit", __name__, url_prefix="/audit")
access.protect(bp, access.Access.dealer, Role.dealer_manager, Role.hq)
navigation.register("audit.index", N_("Audit log"), {Role.dealer_manager, Role.hq}, order=95)

# Every action the portal records, with its label; an unknown one is shown as its code.
ACTION_LABELS = {
    "auth.login": N_("Logged in"), "auth.login_failed": N_("Failed login"),
    "auth.logout": N_("Logged out"),
    "user.created": N_("Login created"), "user.role_changed": N_("Role changed"),
    "user.deactivated": N_("Login deactivated"), "user.reactivated": N_("Login reactivated"),
    "user.password_changed": N_("Password changed"),
    "enrollment.issued": N_("Enrolment code issued"), "agent.enrolled": N_("Agent enrolled"),
    "agent.revoked": N_("Agent revoked"), "agent.token_rotated": N_("Agent token rotated"),
    "order.create": N_("Order placed"), "order.change": N_("Order changed"),
    "order.cancel": N_("Vehicle cancelled"),
    "order.override_change": N_("Order changed (override)"),
    "order.override_cancel": N_("Vehicle cancelled (override)"),
    "record.corrected": N_("Record corrected"), "record.annotated": N_("Record annotated"),
    "record.correction_conflict": N_("Correction in conflict"),
    "complaint.escalated": N_("Complaint escalated"),
    "factory_token.create": N_("Factory token created"),
    "factory_token.rotate": N_("Factory token rotated"),
    "factory_token.revoke": N_("Factory token revoked"),
    "demo.seeded": N_("Demo data seeded"),
}


def _date(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.get("/")
def index():
    """Who did what and when, newest first, filtered by action, user and date."""
    filters = service.AuditFilters(action=request.args.get("action", "").strip()[:60],
                                   user=request.args.get("user", "").strip()[:100],
                                   date_from=_date("from"), date_to=_date("to"))
    session = db.session()
    entries = service.audit_entries(session=session, filters=filters,
                                    page=parse_page(request.args.get("page")),
                                    per_page=current_app.config["PAGE_SIZE"])
    context = {"entries": entries, "filters": filters, "labels": ACTION_LABELS,
               "actions": service.audit_actions(session=session)}
    if request.headers.get("HX-Request"):
        return render_block("audit/index.html", "entries", **context)
    return render_template("audit/index.html", **context)
