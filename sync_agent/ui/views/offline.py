"""Offline views: follow-up tasks due (the portal's rules, from local records) and orders."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext
from pydantic import ValidationError

from common.enums import ContactChannel, Stage
from common.followup import (
    BUSINESS_TZ,
    TASK_LABELS,
    FollowUpTask,
    compute_tasks,
    facts_from_wire,
    rules_from_env,
)
from common.schemas import parse_record
from sync_agent.records import RecordInvalid
from sync_agent.store import Store
from sync_agent.ui import forms
from sync_agent.ui.views import agent, page, pager

bp = Blueprint("offline", __name__)
BATCH = 500


@bp.get("/followups")
def followups():
    """Overdue and due follow-up contacts, computed with the portal's rules (DESIGN §7)."""
    today = dt.datetime.now(BUSINESS_TZ).date()
    tasks = due_tasks(agent().store, today)
    pages = pager(len(tasks))
    return page("offline/followups.html", "tasks", tasks=tasks[pages.offset:][:pages.size],
                pager=pages, today=today, channels=list(ContactChannel), labels=TASK_LABELS,
                overdue=sum(t.overdue for t in tasks))


def due_tasks(store: Store, today: dt.date) -> list[FollowUpTask]:
    sales, contacts = facts_from_wire(_wire_records(store, ("sale", "contact")))
    return compute_tasks(sales, contacts, today, rules_from_env(os.environ))


def _wire_records(store: Store, kinds: tuple[str, ...]) -> Iterator:
    for kind in kinds:
        offset = 0
        while batch := store.list_records(kind, limit=BATCH, offset=offset):
            for record in batch:
                try:
                    yield parse_record(record.payload)
                except ValidationError:
                    continue  # cannot happen for saved records; never block the list on one
            offset += BATCH


@bp.post("/followups/log")
def log_contact():
    """One click: record that the customer was contacted (a contact record, queued)."""
    vin, by = request.form.get("vin", "").strip(), request.form.get("by", "").strip()
    channel = request.form.get("channel", "call")
    if not vin or channel not in ContactChannel.__members__:
        abort(400)
    fields = {"customer_ref": vin, "channel": channel, "by": by or gettext("Dealer staff"),
              "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "outcome": request.form.get("outcome", "").strip()}
    try:
        agent().coordinator.save_record("contact", fields)
    except RecordInvalid as error:
        reasons = forms.explain_problems(error.problems, gettext)
        flash("; ".join(t for texts in reasons.values() for t in texts), "error")
    else:
        flash(gettext("Contact with %(vin)s logged; it is sent to the portal with the next "
                      "sync.", vin=vin), "success")
    return redirect(url_for("offline.followups", page=request.args.get("page", 1)), 303)


@bp.get("/orders")
def orders():
    """The dealer's ordered vehicles, where each is now and when it got there (from pull)."""
    all_orders = order_timelines(agent().store)
    pages = pager(len(all_orders))
    return page("offline/orders.html", "orders", orders=all_orders[pages.offset:][:pages.size],
                pager=pages, stages=[s for s in Stage if s is not Stage.cancelled],
                last_pull=agent().store.get_meta("last_success"))


def order_timelines(store: Store) -> list[dict]:
    """Orders, most recently updated first, each with its vehicles' stage histories."""
    orders: dict[str, dict] = {}
    offset = 0
    while batch := store.pulled_changes("order_status", limit=BATCH, offset=offset):
        for change in reversed(batch):
            _add_event(orders, change)
        offset += BATCH
    for order in orders.values():
        for vehicle in order["vehicles"].values():
            vehicle["events"].sort(key=lambda e: (e["at"], e["id"]))
            vehicle["current"] = vehicle["events"][-1]
    return sorted(orders.values(), key=lambda o: o["updated"], reverse=True)


def _add_event(orders: dict[str, dict], change: dict) -> None:
    p = change["payload"]
    number = p.get("order_number")
    if not number:
        return
    order = orders.setdefault(number, {"number": number, "vehicles": {}, "updated": ""})
    key = (p.get("line"), p.get("unit"))
    vehicle = order["vehicles"].setdefault(key, {"line": key[0], "unit": key[1], "events": []})
    vehicle["vin"] = p.get("vin") or vehicle.get("vin")
    vehicle["eta"] = (p.get("eta_from"), p.get("eta_to"))
    vehicle["events"].append({"id": change["id"], "stage": p.get("stage"), "at": p.get("at")})
    order["updated"] = max(order["updated"], p.get("at") or "")


def stage_of(value: str | None) -> Stage | None:
    try:
        return Stage(value)
    except ValueError:
        return None
