"""CRM in the portal (DESIGN §7): customer and vehicle 360, leads, follow-ups, complaints.

Everything shown is fed by synced records; the portal adds only managers' corrections and
annotations (an audited overlay) and complaint escalations.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from types import SimpleNamespace

from flask import Flask, g, url_for
from flask_babel import gettext
from markupsafe import Markup, escape
from werkzeug.routing import Map, UnicodeConverter

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
    app.jinja_env.globals.update(crm_label=crm_label, crm_labels=crm_labels, texts=Texts,
                                 once=once, per_record=per_record, row_url=row_url)


ENUMS = {"customer_type": CustomerType, "timeframe": LeadTimeframe, "lead_status": LeadStatus,
         "source": LeadSource, "channel": ContactChannel, "complaint_status": ComplaintStatus,
         "about": SurveyAbout}


def crm_label(enum: str, value: str) -> str:
    """The translated label of a stored enum value, e.g. ``crm_label("timeframe", lead.x)``."""
    try:
        return translated_label(ENUMS[enum](value))
    except ValueError:
        return value


class Labels(dict):
    """Translated labels by stored value; a value outside the enum shows as itself."""

    def __missing__(self, value):
        return value


def crm_labels(enum: str) -> Labels:
    """Every label of *enum* in the request's language, for a list that shows one per row."""
    return Labels({member.value: translated_label(member) for member in ENUMS[enum]})


class Texts(dict):
    """Translations of msgids a list shows on many rows, each looked up once per page, as the
    templates' ``_()`` gives a msgid without placeholders: markup."""

    def __missing__(self, msgid: str) -> Markup:
        text = self[msgid] = Markup(gettext(msgid))
        return text


def once(key: str, macro, *args) -> Markup:
    """Render *macro* the first time *key* is asked for in this request, then reuse the markup.

    For the parts of a row that are the same on every row of a page (a correction form's labels,
    CSRF token and return address): *key* must name everything the output depends on.
    """
    rendered = g.setdefault("rendered_once", {})
    if key not in rendered:
        rendered[key] = macro(*args)
    return rendered[key]


def per_record(macro, **kwargs) -> Callable[[uuid.UUID], Markup]:
    """The markup of *macro* for each row of a list when only the record's id differs between
    rows (a correction form): rendered once, for a stand-in record whose random id no request
    can contain, and each row's id put where the stand-in's stands."""
    stand_in = SimpleNamespace(record_id=uuid.uuid4())
    parts = macro(record=stand_in, **kwargs).split(str(stand_in.record_id))
    return lambda record_id: escape(record_id).join(parts)


_SEGMENT = UnicodeConverter(Map()).to_url  # werkzeug's quoting of a value in a URL path


def row_url(endpoint: str, argument: str) -> Callable[[object], str]:
    """``url_for(endpoint, **{argument: value})`` for each row of a list, the route built once;
    for routes whose *argument* is a plain path segment (``<phone>``, ``<uuid:record_id>``)."""
    marker = uuid.uuid4().hex
    head, tail = url_for(endpoint, **{argument: marker}).split(marker)
    return lambda value: f"{head}{_SEGMENT(value)}{tail}"
