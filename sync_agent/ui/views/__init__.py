"""Helpers shared by the views: the agent, fragments for htmx, pagination."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, make_response, render_template, request
from jinja2_fragments.flask import render_block

from common.i18n import N_
from sync_agent.ui.context import LocalAgent


def agent() -> LocalAgent:
    return current_app.extensions["local_agent"]


def page(template: str, block: str | None = None, http_status: int = 200, **context):
    """The whole page, or only *block* when htmx asks (``HX-Request``)."""
    if block and request.headers.get("HX-Request"):
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, http_status)
    response.headers["Vary"] = "HX-Request"
    return response


@dataclass(frozen=True)
class Pager:
    page: int
    size: int
    total: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def pager(total: int) -> Pager:
    size = current_app.config["PAGE_SIZE"]
    number = request.args.get("page", 1, type=int) or 1
    return Pager(min(max(1, number), max(1, -(-total // size))), size, total)


NAV = (("status.index", N_("Status")), ("records.choose", N_("New record")),
       ("records.index", N_("Records")), ("imports.upload_form", N_("Import")),
       ("quarantine.index", N_("Quarantine")), ("offline.followups", N_("Follow-ups")),
       ("offline.orders", N_("Orders")))
_NAV_OF = {"records.new": "records.choose", "records.edit": "records.index"}


def layout_context() -> dict:
    """What every page's frame shows: the menu, the dealer, the quarantine count."""
    store = agent().store
    identity = store.identity()
    endpoint = request.endpoint or ""
    current = _NAV_OF.get(endpoint) or next(
        (e for e, _label in NAV if e == endpoint or e.split(".")[0] == endpoint.split(".")[0]
         and e.split(".")[0] not in ("offline", "records")), None)

    def config_agent() -> dict:
        return {"enrolled": identity is not None,
                "dealer_code": identity.dealer_code if identity else None,
                "quarantine": store.quarantine_count()}

    return {"nav_items": NAV, "nav_current": current, "config_agent": config_agent}
