"""Helpers every CRM page shares: htmx fragments, pages of a list, CSV downloads."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Response, current_app, render_template, request, stream_with_context
from jinja2_fragments.flask import render_block

from portal import db
from portal.services.crm_lists import Page, csv_lines, page_number, paginate, stream_rows


def render_list(template: str, **context) -> Response:
    """The whole page, or only its ``results`` block for an htmx request."""
    if request.headers.get("HX-Request"):
        body = render_block(template, "results", **context)
    else:
        body = render_template(template, **context)
    response = current_app.make_response(body)
    response.headers["Vary"] = "HX-Request"
    return response


def page_of(stmt, total: int | None = None) -> Page:
    return paginate(db.session(), stmt, page=page_number(request.args),
                    per_page=current_app.config.get("PAGE_SIZE", 25), total=total)


def csv_download(filename: str, header: Iterable[str], rows: Iterable[Iterable]) -> Response:
    """Stream *rows* as a UTF-8 (with BOM) CSV attachment."""
    response = Response(stream_with_context(csv_lines(header, rows)),
                        mimetype="text/csv", headers={
                            "Content-Disposition": f'attachment; filename="{filename}"'})
    response.charset = "utf-8"
    return response


def csv_of(filename: str, header: Iterable[str], stmt, to_row: Callable) -> Response:
    """Stream every row of *stmt* (filters and tenancy applied) as CSV."""
    return csv_download(filename, header, stream_rows(db.session(), stmt, to_row))


def page_of_list(items: list) -> Page:
    """One page of a list computed in Python (next actions, follow-up tasks)."""
    size = current_app.config.get("PAGE_SIZE", 25)
    number = min(page_number(request.args), max(1, -(-len(items) // size)))
    return Page(items[(number - 1) * size:number * size], len(items), number, size)
