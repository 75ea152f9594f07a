"""HQ and region rollups: sales, repairs, parts and the order pipeline, each drilling down."""

from __future__ import annotations

from urllib.parse import quote_plus

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from common.enums import Role, Stage
from common.i18n import N_
from portal import access, charts, db, navigation
from portal.auth import current_scope, roles_required
from portal.pagination import parse_page
from portal.scorecard import READERS, kept_key, now, render_blocks
from portal.services import metrics as m
from portal.services import rollups as service

bp = Blueprint("rollups", __name__, url_prefix="/rollups")
access.protect(bp, access.Access.region)
navigation.register("rollups.index", N_("Rollups"), READERS, order=61)


def filters_from_request() -> service.Filters:
    """The filters of ?first=&last=&region=&dealer=&brand=&model=, checked against the scope.

    A region or dealer outside the user's scope answers 404, like a missing one.
    """
    months = m.last_months(now().date())
    args = request.args
    first, last = _month(args.get("first"), months[0]), _month(args.get("last"), months[-1])
    region_id, dealer_id = args.get("region", type=int), args.get("dealer", type=int)
    if dealer_id is not None and not current_scope().allows(dealer_id):
        abort(404)
    if region_id is not None and current_user.role == Role.region_manager \
            and region_id != current_user.region_id:
        abort(404)
    return service.Filters(min(first, last), max(first, last), region_id, dealer_id,
                           args.get("brand"), args.get("model"))


def _month(value: str | None, default):
    try:
        return service.parse_month(value) if value else default
    except (ValueError, IndexError):
        return default


@bp.get("/")
@roles_required(*READERS)
def index():
    """Sales, repairs, parts and pipeline by month, region, dealer and model."""
    filters, session = filters_from_request(), db.session()
    figures = service.figures(session, filters)
    size, page = current_app.config["PAGE_SIZE"], parse_page(request.args.get("page"))
    rows = figures.dealer.rows
    page = max(1, min(page, max(1, -(-len(rows) // size))))
    shown = rows[(page - 1) * size:page * size]
    # one query for the names of the dealers shown and of the dealer filtered on
    filtered = [filters.dealer_id] if filters.dealer_id is not None else []
    dealers = service.dealer_names(session, [r["key"] for r in shown] + filtered)
    context = dict(f=filters, page=service.Page(shown, page, size, len(rows)), dealers=dealers,
                   regions=service.region_names(session),
                   filter_dealer=dealers.get(filters.dealer_id))
    tables = _TABLES.get(session, _tables_key(session, context),
                         lambda: _render_tables(session, figures, context))
    return render_template("metrics/rollups.html", tables=tables, stages=list(Stage),
                           pipeline=service.pipeline(session, filters), **context)


# The tables of figures as HTML, kept until the next refresh like the figures themselves:
# rendering their ~250 links was most of the page's CPU. Keys carry all else they show.
_TABLES = m.Memo(64)
TABLE_BLOCKS = ("heading", "by_month", "by_region", "by_dealer", "by_model", "parts")


def _tables_key(session, context: dict) -> tuple:
    page = context["page"]
    return kept_key(session, "rollups", context["f"], page.page, page.size,
                    frozenset(context["regions"].values()), frozenset(context["dealers"].values()))


def _render_tables(session, figures: service.Figures, context: dict) -> dict[str, Markup]:
    context = dict(context, by=figures, parts=figures.parts, link=Links(context["f"]),
                   as_of=m.data_as_of(session), chart=_month_chart(figures.month))
    return render_blocks("metrics/rollups.html", TABLE_BLOCKS, context)


class Links:
    """The drill-down URLs of one set of filters, as ``url_for(endpoint, **f.query(**changes))``
    builds them: url_for once per endpoint and each filter encoded once, for some 250 links."""

    def __init__(self, filters: service.Filters) -> None:
        self.paths: dict[str, str] = {}
        self.encoded = {k: _pair(k, v) for k, v in filters.params().items()}

    def __call__(self, endpoint: str, **changes) -> str:
        path = self.paths.get(endpoint) or self.paths.setdefault(endpoint, url_for(endpoint))
        pairs = [_pair(k, changes.pop(k)) if k in changes else pair
                 for k, pair in self.encoded.items()]
        query = "&".join(p for p in pairs + [_pair(k, v) for k, v in changes.items()] if p)
        return f"{path}?{query}" if query else path


def _pair(key: str, value) -> str:
    """``key=value`` quoted as werkzeug's url_for quotes a query, or '' for None."""
    return "" if value is None else f"{quote_plus(key)}={quote_plus(str(value), safe=_SAFE)}"


_SAFE = "!$'()*,/:;?@"  # what url_for leaves unquoted in a query string


def _month_chart(rollup: service.Rollup):
    labels = [r["key"].strftime("%y-%m") for r in rollup.rows]
    return charts.line_chart(_("Sales and repair orders per month"), labels, [
        (_("Sales"), [r["sales"] for r in rollup.rows]),
        (_("Repair orders"), [r["repairs"] for r in rollup.rows])])


def _records(title: str, stmt, kind: str, **extra):
    session, size = db.session(), current_app.config["PAGE_SIZE"]
    page = service.paginate(session, stmt, page=parse_page(request.args.get("page")), size=size)
    dealers = service.dealer_names(session, {_dealer_of(r) for r in page.items})
    return render_template("metrics/records.html", title=title, page=page, kind=kind,
                           dealers=dealers, f=filters_from_request(), **extra)


def _dealer_of(row) -> int:
    return row[0].dealer_id if isinstance(row, tuple) or hasattr(row, "_mapping") \
        else row.dealer_id


@bp.get("/sales")
@roles_required(*READERS)
def sales():
    """The sales behind a sales figure."""
    return _records(_("Sales"), service.sales_query(filters_from_request()), "sales")


@bp.get("/repairs")
@roles_required(*READERS)
def repairs():
    """The repair orders behind a repairs or parts figure."""
    part = request.args.get("part")
    stmt = service.repairs_query(filters_from_request(), part)
    return _records(_("Repair orders"), stmt, "repairs", part=part)


@bp.get("/pipeline/<stage>")
@roles_required(*READERS)
def pipeline(stage: str):
    """The ordered vehicles at one production stage."""
    if stage not in Stage.__members__:
        abort(404)
    stmt = service.pipeline_query(filters_from_request(), stage)
    return _records(_("Ordered vehicles"), stmt, "pipeline", stage=Stage(stage))
