"""CRM in the portal (DESIGN §7): customer and vehicle 360, leads, follow-ups, complaints.

Everything shown is fed by synced records; the portal adds only managers' corrections and
annotations (an audited overlay) and complaint escalations.
"""

from __future__ import annotations

import os

from flask import Flask, g
from markupsafe import Markup

from common.enums import (
    ComplaintStatus,
    ContactChannel,
    CustomerType,
    LeadSource,
    LeadStatus,
    LeadTimeframe,
    SurveyAbout,
)
from common.followup import rules_from_env
from portal.i18n import translated_label


def init_app(app: Flask) -> None:
    """Register the CRM blueprints; follow-up rules come from FOLLOWUP_* settings or env."""
    from portal.crm import complaints, corrections, customers, leads, tasks

    settings = {k: str(v) for k, v in app.config.items() if k.startswith("FOLLOWUP_")}
    app.config.setdefault("FOLLOWUP_RULES", rules_from_env({**os.environ, **settings}))
    for module in (customers, leads, tasks, complaints, corrections):
        app.register_blueprint(module.bp)
    app.jinja_env.globals.update(crm_label=crm_label, once=once)


ENUMS = {"customer_type": CustomerType, "timeframe": LeadTimeframe, "lead_status": LeadStatus,
         "source": LeadSource, "channel": ContactChannel, "complaint_status": ComplaintStatus,
         "about": SurveyAbout}


def crm_label(enum: str, value: str) -> str:
    """The translated label of a stored enum value, e.g. ``crm_label("timeframe", lead.x)``."""
    try:
        return translated_label(ENUMS[enum](value))
    except ValueError:
        return value


def once(key: str, macro, *args) -> Markup:
    """Render *macro* the first time *key* is asked for in this request, then reuse the markup.

    For the parts of a row that are the same on every row of a page (a correction form's labels,
    CSRF token and return address): *key* must name everything the output depends on.
    """
    rendered = g.setdefault("rendered_once", {})
    if key not in rendered:
        rendered[key] = macro(*args)
    return rendered[key]
