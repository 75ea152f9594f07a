"""The entry forms of the six record kinds: fields, parsing of posted forms, explained errors.

Validation is the wire schema's (common.schemas), so the window accepts exactly what the
portal accepts; this module only turns pydantic's findings into sentences a salesperson can
act on, in the window's language, keyed by the dotted field name the form shows them under.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from common.enums import (
    ComplaintStatus,
    ContactChannel,
    CustomerType,
    LeadSource,
    LeadStatus,
    LeadTimeframe,
    SurveyAbout,
)
from common.i18n import N_
from common.schemas import parse_record
from common.validators import FieldError
from sync_agent.records import HEADER_FIELDS, KINDS, Problem, set_dotted

Gettext = Callable[[str], str]
PART_FIELDS = ("part_number", "name", "qty")


@dataclass(frozen=True)
class FormField:
    name: str  # dotted wire name, e.g. "vehicle.vin"
    label: str  # msgid
    widget: str = "text"  # text, date, datetime, number, textarea, select, checkbox, score
    choices: type[StrEnum] | None = None
    required: bool = False
    hint: str | None = None  # msgid


F = FormField
SALE = (
    (N_("Deal"), (F("deal_number", N_("Deal number"), required=True),
                  F("sale_date", N_("Sale date"), "date", required=True),
                  F("salesperson", N_("Salesperson"), required=True),
                  F("price", N_("Price (yuan)"), "number", required=True),
                  F("lead_source", N_("Lead source"), "select", LeadSource))),
    (N_("Customer"), (F("customer.name", N_("Customer name"), required=True),
                      F("customer.phone", N_("Phone"), required=True,
                        hint=N_("Mobile 13812345678 or landline 021-12345678")),
                      F("customer.address", N_("Address")),
                      F("customer.postcode", N_("Postcode"), required=True),
                      F("customer.customer_type", N_("Customer type"), "select", CustomerType))),
    (N_("Vehicle"), (F("vehicle.vin", N_("VIN"), required=True,
                       hint=N_("17 characters, on the windscreen or the registration")),
                     F("vehicle.brand", N_("Brand"), required=True),
                     F("vehicle.model", N_("Model"), required=True),
                     F("vehicle.trim", N_("Trim")),
                     F("vehicle.color", N_("Colour")),
                     F("vehicle.model_year", N_("Model year"), "number", required=True),
                     F("vehicle.engine_number", N_("Engine number")))),
)
REPAIR_ORDER = (
    (N_("Repair order"), (F("ro_number", N_("RO number"), required=True),
                          F("vin", N_("VIN"), required=True),
                          F("opened_at", N_("Opened at"), "datetime", required=True),
                          F("closed_at", N_("Closed at"), "datetime"),
                          F("odometer_km", N_("Odometer (km)"), "number", required=True),
                          F("technician", N_("Technician"), required=True),
                          F("labor_hours", N_("Labour hours"), "number"),
                          F("amount", N_("Amount (yuan)"), "number"),
                          F("warranty", N_("Warranty repair"), "checkbox"))),
    (N_("Work"), (F("customer_complaint", N_("Customer's complaint"), "textarea"),
                  F("work_performed", N_("Work performed"), "textarea"))),
)
LEAD = (
    (N_("Lead"), (F("name", N_("Name"), required=True),
                  F("phone", N_("Phone"), required=True,
                    hint=N_("Mobile 13812345678 or landline 021-12345678")),
                  F("interested_model", N_("Interested in model")),
                  F("purchase_timeframe", N_("Plans to buy"), "select", LeadTimeframe,
                    required=True),
                  F("source", N_("Source"), "select", LeadSource, required=True),
                  F("salesperson", N_("Salesperson")),
                  F("status", N_("Status"), "select", LeadStatus))),
)
CUSTOMER_REF_HINT = N_("The customer's VIN, or the lead's record number")
CONTACT = (
    (N_("Contact"), (F("customer_ref", N_("Customer (VIN or lead)"), required=True,
                       hint=CUSTOMER_REF_HINT),
                     F("channel", N_("Channel"), "select", ContactChannel, required=True),
                     F("at", N_("When"), "datetime", required=True),
                     F("by", N_("By"), required=True),
                     F("outcome", N_("Outcome")),
                     F("notes", N_("Notes"), "textarea"))),
)
COMPLAINT = (
    (N_("Complaint"), (F("customer_ref", N_("Customer (VIN or lead)"), required=True,
                         hint=CUSTOMER_REF_HINT),
                       F("received_at", N_("Received at"), "datetime", required=True),
                       F("channel", N_("Channel"), "select", ContactChannel, required=True),
                       F("category", N_("Category"), required=True),
                       F("description", N_("Description"), "textarea", required=True),
                       F("status", N_("Status"), "select", ComplaintStatus),
                       F("answered_at", N_("Answered at"), "datetime"),
                       F("resolved_at", N_("Resolved at"), "datetime"),
                       F("resolution", N_("Resolution"), "textarea"))),
)
SURVEY = (
    (N_("Survey"), (F("customer_ref", N_("Customer (VIN or lead)"), required=True,
                      hint=CUSTOMER_REF_HINT),
                    F("about", N_("About"), "select", SurveyAbout, required=True),
                    F("score", N_("Score (5 = very satisfied)"), "score", required=True),
                    F("at", N_("When"), "datetime", required=True))),
)
FORMS = {"sale": SALE, "repair_order": REPAIR_ORDER, "lead": LEAD, "contact": CONTACT,
         "complaint": COMPLAINT, "survey": SURVEY}
PART_LABELS = {"part_number": N_("Part number"), "name": N_("Part name"), "qty": N_("Qty")}


def form_fields(kind: str) -> list[FormField]:
    return [f for _section, fields in FORMS[kind] for f in fields]


def field_label(kind: str | None, name: str) -> str | None:
    """The msgid labelling dotted field *name* (parts lines: their column's label)."""
    for f in form_fields(kind) if kind in FORMS else ():
        if f.name == name:
            return f.label
    if name.startswith("parts."):
        return PART_LABELS.get(name.rsplit(".", 1)[-1], N_("Parts"))
    return None


# -- posted form -> record fields -----------------------------------------------------------


def parse_form(kind: str, form) -> dict[str, Any]:
    """The record fields of a posted form (a werkzeug MultiDict); empty inputs are absent."""
    data: dict[str, Any] = {}
    for f in form_fields(kind):
        raw = (form.get(f.name) or "").strip()
        if f.widget == "checkbox":
            set_dotted(data, f.name, f.name in form)
        elif raw:
            set_dotted(data, f.name, local_to_aware(raw) if f.widget == "datetime" else raw)
    if kind == "repair_order":
        data["parts"] = parse_parts(form)
    return data


def parse_parts(form) -> list[dict[str, str]]:
    columns = [form.getlist(f"part_{name}") for name in PART_FIELDS]
    parts = []
    for values in zip(*columns, strict=False):
        line = {n: v.strip() for n, v in zip(PART_FIELDS, values, strict=True) if v.strip()}
        if line:
            parts.append(line)
    return parts


def local_to_aware(text: str) -> str:
    """A ``datetime-local`` input is the PC's local time; keep the offset on the record."""
    try:
        return dt.datetime.fromisoformat(text).astimezone().isoformat(timespec="seconds")
    except ValueError:
        return text  # validation says what a date and time look like


def form_values(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The inputs' values for a record: dotted names, datetimes as the PC's local time."""
    values = {}
    for f in form_fields(kind):
        value = _get(payload, f.name)
        if f.widget == "datetime" and isinstance(value, str):
            value = aware_to_local(value)
        values[f.name] = value
    return values


def _get(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for name in dotted.split("."):
        node = node.get(name) if isinstance(node, dict) else None
    return node


def aware_to_local(text: str) -> str:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if when.tzinfo is not None:
        when = when.astimezone().replace(tzinfo=None)
    return when.isoformat(timespec="minutes")


# -- explaining ------------------------------------------------------------------------------


def check(kind: str, fields: dict[str, Any], dealer_code: str,
          gettext: Gettext) -> dict[str, list[str]]:
    """Validate like the store and the portal; field name -> messages in the user's language."""
    if kind not in KINDS:
        return {"kind": [gettext(N_("Choose what kind of record this is."))]}
    body = {k: v for k, v in fields.items() if k not in HEADER_FIELDS}
    header = {"record_id": str(uuid.uuid4()), "dealer_code": dealer_code or "-", "kind": kind,
              "version": 1, "updated_at": dt.datetime.now(dt.UTC)}
    try:
        parse_record({**body, **header})
    except ValidationError as error:
        return explain(error, gettext)
    return {}


def explain(error: ValidationError, gettext: Gettext) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for item in error.errors(include_url=False):
        loc = [str(p) for p in item["loc"]]
        if loc and loc[0] in KINDS:
            loc = loc[1:]
        errors.setdefault(".".join(loc), []).append(explain_item(item, gettext))
    return errors


def explain_item(item: dict[str, Any], gettext: Gettext) -> str:
    ctx = item.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, FieldError):
        return cause.render(gettext)
    msgid = MESSAGES.get(item["type"])
    if msgid is None:
        return item["msg"]
    params = {k: v for k, v in ctx.items() if isinstance(v, int | float | str)}
    params.setdefault("field", str(item["loc"][-1]) if item["loc"] else "")
    try:
        return gettext(msgid) % params
    except (KeyError, TypeError, ValueError):
        return gettext(msgid)


def explain_problems(problems: list[Problem], gettext: Gettext) -> dict[str, list[str]]:
    """Errors the store finds beyond the schema (a deal number taken, a kind changed)."""
    errors: dict[str, list[str]] = {}
    for p in problems:
        msgid = STORE_MESSAGES.get(p.code)
        text = gettext(msgid) if msgid else (gettext(p.msgid) % p.params if p.msgid
                                             else p.message)
        errors.setdefault(p.field, []).append(text)
    return errors


MESSAGES = {
    "missing": N_("Please fill this in."),
    "string_too_short": N_("Please fill this in."),
    "string_too_long": N_("Too long: at most %(max_length)s characters."),
    "int_parsing": N_("Enter a whole number, e.g. 12000."),
    "int_from_float": N_("Enter a whole number, e.g. 12000."),
    "int_type": N_("Enter a whole number, e.g. 12000."),
    "decimal_parsing": N_("Enter a number, e.g. 268000.00."),
    "decimal_type": N_("Enter a number, e.g. 268000.00."),
    "decimal_max_digits": N_("Too many digits: at most %(max_digits)s."),
    "decimal_max_places": N_("At most %(decimal_places)s digits after the decimal point."),
    "greater_than_equal": N_("Must be at least %(ge)s."),
    "less_than_equal": N_("Must be at most %(le)s."),
    "date_parsing": N_("Enter a date as year-month-day, e.g. 2024-03-01."),
    "date_from_datetime_parsing": N_("Enter a date as year-month-day, e.g. 2024-03-01."),
    "date_from_datetime_inexact": N_("Enter a date as year-month-day, e.g. 2024-03-01."),
    "date_type": N_("Enter a date as year-month-day, e.g. 2024-03-01."),
    "datetime_parsing": N_("Enter a date and time, e.g. 2024-03-01 14:30."),
    "datetime_from_date_parsing": N_("Enter a date and time, e.g. 2024-03-01 14:30."),
    "datetime_type": N_("Enter a date and time, e.g. 2024-03-01 14:30."),
    "enum": N_("Choose one of the listed options."),
    "literal_error": N_("Choose one of the listed options."),
    "bool_parsing": N_("Answer yes or no."),
    "uuid_parsing": N_("This is not a record number of this agent."),
    "too_long": N_("Too many lines: at most %(max_length)s."),
    "list_type": N_("Enter the parts as lines."),
    "extra_forbidden": N_("'%(field)s' is not a field of this kind of record."),
}
STORE_MESSAGES = {
    "business_key_taken": N_("This number already belongs to another record; search for it "
                             "under Records to change that one."),
    "kind_changed": N_("A saved record cannot change its kind."),
}
