"""CRM in the portal (DESIGN §7): customer and vehicle 360, leads, follow-ups, complaints.

Everything shown is fed by synced records; the portal adds only managers' corrections and
annotations (an audited overlay) and complaint escalations.
"""

from __future__ import annotations

import os

from flask import Flask

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
    app.jinja_env.globals["crm_label"] = crm_label


ENUMS = {"customer_type": CustomerType, "timeframe": LeadTimeframe, "lead_status": LeadStatus,
         "source": LeadSource, "channel": ContactChannel, "complaint_status": ComplaintStatus,
         "about": SurveyAbout}


def crm_label(enum: str, value: str) -> str:
    """The translated label of a stored enum value, e.g. ``crm_label("timeframe", lead.x)``."""
    try:
        return translated_label(ENUMS[enum](value))
    except ValueError:
        return value
