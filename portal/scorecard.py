"""The dealer scorecard, the records to fix, and the benchmark page for regions and HQ."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale, get_timezone
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from sqlalchemy import Row, bindparam
from sqlmodel import func, select

from common.enums import Role
from common.i18n import N_
from portal import access, charts, db, jobs, navigation
from portal.auth import current_scope, roles_required
from portal.models import Agent, Dealer, Region
from portal.pagination import parse_page
from portal.services import benchmark, rollups
from portal.services import metrics as m
from portal.tenancy import built_once

bp = Blueprint("scorecard", __name__)
access.protect(bp, access.Access.dealer)
DEALER_ROLES = (Role.dealer_staff, Role.dealer_manager)
READERS = (Role.region_manager, Role.hq)
navigation.register("scorecard.index", N_("Scorecard"), DEALER_ROLES, order=60)
navigation.register("scorecard.benchmark", N_("Benchmark"), READERS, order=60)
jobs.register("metrics.refresh", m.refresh_job, every=dt.timedelta(minutes=15))


def now() -> dt.datetime:
    return current_app.config.get("METRICS_NOW") or m.utcnow()


def chosen_month() -> tuple[dt.date, list[dt.date]]:
    """The month asked for in ?month=YYYY-MM (one of the last 13), else the current one."""
    months = m.last_months(now().date())
    try:
        month = rollups.parse_month(request.args.get("month", ""))
    except (ValueError, IndexError):
        month = months[-1]
    return (month if month in months else months[-1]), months


def visible_dealer(code: str) -> Dealer:
    """The dealer *code* if the user's scope covers it; 404 otherwise, as for a missing one."""
    session = db.session()
    dealer = session.exec(select(Dealer).where(Dealer.code == code)).first()
    if dealer is None or not current_scope().allows(dealer.id):
        abort(404)
    return dealer


@bp.get("/scorecard")
@login_required
def index():
    """Show dealer users their own scorecard (rendered here: a redirect costs the client a second
    request; /scorecard/<code> stays its address for links), others the benchmark."""
    if current_user.dealer_id is None:
        return redirect(url_for("scorecard.benchmark"))
    return _scorecard_page(*_card_subject(_SUBJECT_BY_ID, current_user.dealer_id))


@bp.get("/scorecard/<code>")
@login_required
def dealer(code: str):
    """Show one dealer's metrics, ranks, gaps to the benchmark group and 13-month trend."""
    return _scorecard_page(*_card_subject(_SUBJECT_BY_CODE, code))


# the dealer, its region and its live agents' last successful sync, in one query; built once
# (building it took a tenth of the page's CPU), the dealer's id or code bound at execution
_LAST_SYNC = (select(func.max(Agent.last_success_at))
              .where(Agent.dealer_id == Dealer.id, Agent.revoked_at.is_(None)).scalar_subquery())
_SUBJECT = select(Dealer, Region, _LAST_SYNC).join(Region, Region.id == Dealer.region_id)
_SUBJECT_BY_ID = built_once(_SUBJECT.where(Dealer.id == bindparam("dealer")))
_SUBJECT_BY_CODE = built_once(_SUBJECT.where(Dealer.code == bindparam("dealer")))


def _card_subject(statement, dealer: int | str) -> Row:
    """The dealer, its region and its agents' last sync; 404 when the dealer is missing or
    outside the user's scope."""
    found = db.session().exec(statement, params={"dealer": dealer}).first()
    if found is None or not current_scope().allows(found[0].id):
        abort(404)
    return found


def _scorecard_page(target: Dealer, region: Region, last_sync: dt.datetime | None):
    month, months = chosen_month()
    session = db.session()
    hours = None if last_sync is None else (now() - m.utc(last_sync)).total_seconds() / 3600
    context = dict(dealer=target, region=region, month=month, months=months,
                   sync_hours=None if hours is None else f"{hours:.0f}")
    figures = _FIGURES.get(session, _figures_key(session, context),
                           lambda: _render_figures(session, context))
    return render_template("metrics/scorecard.html", figures=figures, **context)


# The scorecard's figures as HTML (10–20 kB per entry), kept until the next refresh like the figures
# themselves: rendering them cost ~2 ms of the page's CPU. Keys carry all else they show.
_FIGURES = m.Memo(256)
FIGURE_BLOCKS = ("summary", "metrics_table", "details")


def kept_key(session, page: str, *shown) -> tuple:
    """The key of a page's HTML kept in a metrics.Memo: the page, the session's scope, what else
    it shows (*shown*), and the language, time zone and mount point its text and links follow."""
    return (page, m.scope_key(session), *shown, str(get_locale()), str(get_timezone()),
            request.script_root)


def render_blocks(template: str, names: tuple[str, ...], context: dict) -> dict[str, Markup]:
    """The named blocks of *template*, each rendered once, to be kept."""
    return {name: Markup(render_block(template, name, **context)) for name in names}


def _figures_key(session, context: dict) -> tuple:
    dealer, region = context["dealer"], context["region"]
    return kept_key(session, "scorecard", dealer.id, dealer.code, dealer.name_zh, dealer.name_en,
                    region.name_zh, region.name_en, context["month"], tuple(context["months"]),
                    context["sync_hours"])


def _render_figures(session, context: dict) -> dict[str, Markup]:
    with db.system_session("benchmark") as everyone:
        card = benchmark.scorecard(session, everyone, dealer_id=context["dealer"].id,
                                   month=context["month"], months=context["months"])
    context = dict(context, card=card, metrics=m.METRICS, as_of=m.data_as_of(session),
                   buckets=m.BUCKET_COLUMNS, baselines=m.BASELINES,
                   chart=_trend_chart(card, context["months"]))
    return render_blocks("metrics/scorecard.html", FIGURE_BLOCKS, context)


def _trend_chart(card: benchmark.Scorecard, months: list[dt.date]):
    from flask_babel import gettext as _

    return charts.line_chart(
        _("CRM-usage index, last 13 months"), [mo.strftime("%y-%m") for mo in months],
        [(_("This dealer"), list(card.trend.values())),
         (_("Benchmark group"), list(card.group_trend.values()))], top=100)


@bp.get("/scorecard/<code>/fix/<metric>")
@login_required
def fix(code: str, metric: str):
    """List the records that keep one metric of the month from 100 %, a page at a time."""
    target, (month, _months) = visible_dealer(code), chosen_month()
    if metric not in m.METRIC_BY_KEY:
        abort(404)
    items = benchmark.fix_items(db.session(), metric, target.id, month, now())
    size, page = current_app.config["PAGE_SIZE"], parse_page(request.args.get("page"))
    total_pages = max(1, -(-len(items) // size))
    page = max(1, min(page, total_pages))
    pager = rollups.Page(items[(page - 1) * size:page * size], page, size, len(items))
    return render_template("metrics/fix.html", dealer=target, metric=m.METRIC_BY_KEY[metric],
                           month=month, page=pager)


@bp.get("/benchmark", endpoint="benchmark")
@access.region_scoped()
@roles_required(*READERS)
def benchmark_page():
    """Rank the dealers in view, show the index distribution, the trend and the 标杆 dealers."""
    month, months = chosen_month()
    session, region_id = db.session(), request.args.get("region", type=int)
    with db.system_session("benchmark") as everyone:
        ctx = benchmark.month_context(everyone, month)
        rows = benchmark.ranking(session, ctx, region_id)
        size, page = current_app.config["PAGE_SIZE"], parse_page(request.args.get("page"))
        page = max(1, min(page, max(1, -(-len(rows) // size))))
        pager = rollups.Page(rows[(page - 1) * size:page * size], page, size, len(rows))
        # one query for the names shown: the dealers on the page and the benchmark group's
        names = rollups.dealer_names(everyone, {r.dealer_id for r in pager.items} | ctx.group)
        context = dict(month=month, months=months, region_id=region_id, page=pager,
                       regions=rollups.region_names(session), dealers=names)
        figures = _BENCHMARK.get(session, _benchmark_key(session, context),
                                 lambda: _render_benchmark(session, everyone, ctx, rows, context))
    return render_template("metrics/benchmark.html", figures=figures, **context)


# The benchmark's figures as HTML, kept until the next refresh like the figures themselves, as the
# scorecard's are. Keys carry all else they show.
_BENCHMARK = m.Memo(64)
BENCHMARK_BLOCKS = ("summary", "ranking", "group")


def _benchmark_key(session, context: dict) -> tuple:
    page = context["page"]
    return kept_key(session, "benchmark", context["month"], tuple(context["months"]),
                    context["region_id"], page.page, page.size,
                    frozenset(context["regions"].values()), frozenset(context["dealers"].values()))


def _render_benchmark(session, everyone, ctx: benchmark.MonthContext,
                      rows: list[benchmark.RankRow], context: dict) -> dict[str, Markup]:
    names = context["dealers"]
    group = sorted(((names[d], ctx.index[d]) for d in ctx.group), key=lambda p: -p[1])
    charts = _benchmark_charts(session, rows, context["months"],
                               benchmark.group_trend(everyone, context["months"]))
    context = dict(context, ctx=ctx, rows=rows, in_view_group=sum(r.benchmark for r in rows),
                   as_of=m.data_as_of(session), group_dealers=group, charts=charts)
    return render_blocks("metrics/benchmark.html", BENCHMARK_BLOCKS, context)


def _benchmark_charts(session, rows, months, group_trend) -> dict:
    from flask_babel import gettext as _

    counts = benchmark.histogram(r.index for r in rows)
    labels = [f"{10 * i}–{10 * i + 9}" if i < 9 else "90–100" for i in range(10)]
    scope_trend = benchmark.trend(session, months)
    return {
        "histogram": charts.bar_chart(_("Dealers per index band"), labels, counts),
        "trend": charts.line_chart(
            _("Mean CRM-usage index, last 13 months"), [mo.strftime("%y-%m") for mo in months],
            [(_("Dealers in view"), list(scope_trend.values())),
             (_("Benchmark group"), list(group_trend.values()))], top=100),
    }
