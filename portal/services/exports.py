"""Background exports of the benchmark and rollup tables to CSV (UTF-8 with BOM) and XLSX.

An :class:`~portal.models.Export` row records who asked, for which table and how
far the work got; a thread builds the table through a session carrying the
asker's tenancy scope and writes the file under ``DATA_DIR/exports``. Only the
user who asked, or a user of the same dealer, may download it.
"""

from __future__ import annotations

import csv
import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import Engine
from sqlmodel import Session, select

from common.i18n import N_, load_catalogue
from common.labels import LABELS
from portal.models import Dealer, Export, Region, User, utcnow
from portal.services import benchmark, rollups
from portal.services import metrics as m
from portal.tenancy import Scope, set_scope

FORMATS = ("csv", "xlsx")
PROGRESS_EVERY = 200


class ExportError(ValueError):
    """An export that cannot be made, with a reason for the user (a msgid)."""


@dataclass
class Context:
    """What a table builder may use: the asker's session, a national one, and their language."""

    session: Session
    everyone: Callable[[], Session]
    params: dict
    locale: str

    def _(self, msgid: str, **params) -> str:
        return load_catalogue(self.locale).gettext(msgid) % params  # as Jinja's _() does

    def name(self, obj) -> str:
        return obj.name_zh if self.locale == "zh_CN" else obj.name_en

    def month(self, key: str = "month") -> dt.date:
        return rollups.parse_month(self.params[key])

    def filters(self) -> rollups.Filters:
        p = self.params
        return rollups.Filters(rollups.parse_month(p["first"]), rollups.parse_month(p["last"]),
                               p.get("region"), p.get("dealer"), p.get("brand"), p.get("model"))


Table = tuple[list[str], list[list]]
TABLES: dict[str, tuple[str, Callable[[Context], Table]]] = {}


def table(name: str, title: str):
    """Register a table builder under *name* with a msgid *title*."""
    def register(func: Callable[[Context], Table]):
        TABLES[name] = (title, func)
        return func
    return register


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


@table("ranking", N_("Benchmark ranking"))
def _ranking(c: Context) -> Table:
    with c.everyone() as everyone:
        ctx = benchmark.month_context(everyone, c.month())
    rows = benchmark.ranking(c.session, ctx, c.params.get("region"))
    dealers = rollups.dealer_names(c.session, [r.dealer_id for r in rows])
    regions = rollups.region_names(c.session)
    head = [c._("Rank"), c._("Dealer code"), c._("Dealer"), c._("Region"),
            c._("CRM-usage index"), c._("Percentile in region"), c._("Percentile nationally"),
            c._("Benchmark dealer")]
    return head, [[r.rank, dealers[r.dealer_id].code, c.name(dealers[r.dealer_id]),
                   c.name(regions[r.region_id]), r.index, r.regional, r.national,
                   c._("Yes") if r.benchmark else ""] for r in rows]


@table("scorecard", N_("Scorecard"))
def _scorecard(c: Context) -> Table:
    dealer_id, month = int(c.params["dealer"]), c.month()
    with c.everyone() as everyone:
        card = benchmark.scorecard(c.session, everyone, dealer_id=dealer_id, month=month,
                                   months=[month])
    head = [c._("Metric"), c._("Definition"), c._("Weight"), c._("Value (%%)"),
            c._("Benchmark group (%%)"), c._("Gap (points)")]
    return head, [[c._(m.METRIC_BY_KEY[g.key].label), c._(m.METRIC_BY_KEY[g.key].definition),
                   m.METRIC_BY_KEY[g.key].weight, _pct(g.value), _pct(g.benchmark), g.gap]
                  for g in card.gaps]


@table("rollup", N_("Sales and repairs"))
def _rollup(c: Context) -> Table:
    dimension, filters = c.params["dimension"], c.filters()
    rollup = rollups.volumes_by(c.session, filters, dimension)
    head = {"month": [c._("Month")], "region": [c._("Region")], "model": [c._("Brand"),
            c._("Model")], "dealer": [c._("Dealer code"), c._("Dealer")]}[dimension]
    return head + [c._("Sales"), c._("Repair orders")], [
        [*_key_cells(c, dimension, r["key"]), r["sales"], r["repairs"]] for r in rollup.rows]


def _key_cells(c: Context, dimension: str, key) -> list:
    if dimension == "month":
        return [key.strftime("%Y-%m")]
    if dimension == "model":
        return [key[0] or c._("Unknown"), key[1] or c._("Unknown")]
    obj = c.session.get(Region if dimension == "region" else Dealer, key)
    return [c.name(obj)] if dimension == "region" else [obj.code, c.name(obj)]


@table("parts", N_("Most replaced parts per model"))
def _parts(c: Context) -> Table:
    head = [c._("Brand"), c._("Model"), c._("Part number"), c._("Part"), c._("Quantity"),
            c._("Repair orders")]
    return head, [[b or c._("Unknown"), mo or c._("Unknown"), p["part_number"], p["name"],
                   p["qty"], p["repairs"]]
                  for (b, mo), parts in rollups.top_parts(c.session, c.filters(), 50).items()
                  for p in parts]


@table("sales", N_("Sales"))
def _sales(c: Context) -> Table:
    head = [c._("Deal number"), c._("Sale date"), c._("Customer"), c._("Phone"), c._("VIN"),
            c._("Brand"), c._("Model"), c._("Salesperson"), c._("Price")]
    return head, [[s.deal_number, s.sale_date.isoformat(), s.customer_name, s.customer_phone,
                   s.vin, s.brand, s.model, s.salesperson, float(s.price)]
                  for s in c.session.exec(rollups.sales_query(c.filters()))]


@table("repairs", N_("Repair orders"))
def _repairs(c: Context) -> Table:
    head = [c._("RO number"), c._("Opened"), c._("VIN"), c._("Technician"), c._("Parts"),
            c._("Amount")]
    stmt = rollups.repairs_query(c.filters(), c.params.get("part"))
    return head, [[r.ro_number, m.utc(r.opened_at).isoformat(), r.vin, r.technician,
                   r.parts_count, float(r.amount)] for r in c.session.exec(stmt)]


@table("fix", N_("Records to fix"))
def _fix(c: Context) -> Table:
    items = benchmark.fix_items(c.session, c.params["metric"], int(c.params["dealer"]),
                                c.month(), utcnow())
    head = [c._("Record"), c._("Reference"), c._("Date"), c._("Who"), c._("Why")]
    return head, [[c._(i.kind), i.ref, i.when.isoformat(), i.who,
                   "; ".join(c._(msg, **params) for msg, params in i.why)] for i in items]


@table("pipeline", N_("Order pipeline"))
def _pipeline(c: Context) -> Table:
    counts = rollups.pipeline(c.session, c.filters())
    return [c._("Stage"), c._("Vehicles")], [[c._(LABELS[s]), n] for s, n in
                                              ((stage, counts[stage]) for stage in counts)]


# ---------------------------------------------------------------- requesting and running


def request_export(session: Session, *, user: User, table_name: str, fmt: str,
                   params: dict) -> Export:
    """Record an export request; raises ExportError when the table or format is unknown."""
    if table_name not in TABLES:
        raise ExportError(N_("There is no table of that name to export."))
    if fmt not in FORMATS:
        raise ExportError(N_("Exports are made as CSV or XLSX."))
    export = Export(user_id=user.id, dealer_id=user.dealer_id, table=table_name, fmt=fmt,
                    params=params)
    session.add(export)
    session.commit()
    return export


def get_export(session: Session, export_id: uuid.UUID, user: User) -> Export | None:
    """The export if *user* asked for it or belongs to the dealer that did, else None."""
    export = session.get(Export, export_id)
    if export is None:
        return None
    if export.user_id == user.id or (user.dealer_id and export.dealer_id == user.dealer_id):
        return export
    return None


def list_exports(session: Session, user: User):
    """The user's exports (and their dealer's), newest first, as a statement to paginate."""
    mine = Export.user_id == user.id
    if user.dealer_id:
        mine = mine | (Export.dealer_id == user.dealer_id)
    return select(Export).where(mine).order_by(Export.created_at.desc())


def start(engine: Engine, export_id: uuid.UUID, scope: Scope, data_dir: str,
          locale: str) -> threading.Thread:
    """Run the export in a background thread and return the thread."""
    thread = threading.Thread(target=run, args=(engine, export_id, scope, data_dir, locale),
                              name=f"export-{export_id}", daemon=True)
    thread.start()
    return thread


def run(engine: Engine, export_id: uuid.UUID, scope: Scope, data_dir: str, locale: str) -> None:
    """Build the table within *scope* and write the file, recording progress; never raises."""
    with set_scope(Session(engine, expire_on_commit=False), scope) as session:
        export = session.get(Export, export_id)
        export.status = "running"
        session.commit()
        try:
            _write(session, export, data_dir, locale, engine)
            export.status, export.finished_at = "done", utcnow()
        except Exception as exc:  # recorded for the user; the thread must end cleanly
            export.status, export.error = "failed", f"{type(exc).__name__}: {exc}"[:500]
        session.commit()


def _write(session: Session, export: Export, data_dir: str, locale: str, engine: Engine):
    def everyone() -> Session:
        return set_scope(Session(engine), Scope.everything("export"))

    context = Context(session, everyone, export.params, locale)
    head, rows = TABLES[export.table][1](context)
    export.rows_total = len(rows)
    session.commit()
    path = Path(data_dir) / "exports" / f"{export.id}.{export.fmt}"
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = _write_csv if export.fmt == "csv" else _write_xlsx
    writer(path, head, _progress(session, export, rows))
    export.file_path = str(path)


def _progress(session: Session, export: Export, rows: list[list]) -> Iterable[list]:
    for n, row in enumerate(rows, 1):
        yield row
        if n % PROGRESS_EVERY == 0 or n == len(rows):
            export.rows_done = n
            session.commit()


def _write_csv(path: Path, head: list[str], rows: Iterable[list]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:  # BOM: Excel reads UTF-8
        writer = csv.writer(out)
        writer.writerow(head)
        writer.writerows(rows)


def _write_xlsx(path: Path, head: list[str], rows: Iterable[list]) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(head)
    for row in rows:
        sheet.append(row)
    book.save(path)


def filename(export: Export) -> str:
    stamp = m.utc(export.created_at).strftime("%Y%m%d-%H%M")
    return f"{export.table}-{stamp}.{export.fmt}"
