"""The benchmark's large, deterministic portal database, built once and cached by its parameters.

The demo generator (``portal.demo``) makes the records — the same data ``seed-demo`` writes,
streamed dealer by dealer — and :func:`bulk_insert` loads them fast: PostgreSQL ``COPY`` or a
raw SQLite ``executemany`` of values converted by SQLAlchemy's own bind processors, so rows
are stored exactly as the ORM would store them. On top come vehicle orders for every dealer
(through the ordering service) and the precomputed CRM-usage aggregates (``refresh-metrics``).

The finished database is kept (a SQLite file in the cache directory, or a PostgreSQL database
``bench_<key>``); each run works on a copy (file copy, or ``CREATE DATABASE ... TEMPLATE``),
so a run's ingest never changes the cached dataset and re-runs skip generation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import Table, create_engine, func, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from common.enums import PRODUCTION_STAGES, Stage
from portal import migrate
from portal.db import make_engine
from portal.demo import generator
from portal.demo.seed import seed_demo
from portal.models import CarModel, Dealer, OrderVehicle
from portal.services import catalogue, metrics, orders
from portal.services.sync import binary_copy
from portal.tenancy import Scope, set_scope

DATASET_VERSION = 1  # bump when what a dataset holds changes, so old caches are not reused
DEFAULT_CACHE = Path(os.environ.get("DEALER_BENCH_CACHE",
                                    Path.home() / ".cache" / "dealer-portal-benchmark"))
Echo = Callable[[str], None]


@dataclass(frozen=True)
class Spec:
    """What to generate; equal specs give identical databases."""

    dealers: int
    records: int  # synced records (the six kinds), the volume is calibrated to reach it
    seed: int
    today: dt.date
    orders_per_dealer: int = 10
    months: int = 24

    @property
    def key(self) -> str:
        raw = repr((DATASET_VERSION, sorted(asdict(self).items())))
        return hashlib.sha256(raw.encode()).hexdigest()[:12]


@dataclass
class Dataset:
    """A working copy of the cached dataset, with what it took to make it."""

    url: str
    spec: Spec
    records: int
    seconds_built: float | None  # None: it came from the cache
    cleanup: Callable[[], None]


# --- bulk loading ---------------------------------------------------------------------------


def bulk_insert(session: Session, model: type, rows: list[dict]) -> None:
    """Insert *rows* (dicts keyed by column) as fast as the database allows, no ORM, no checks."""
    if not rows:
        return
    table: Table = model.__table__
    connection = session.connection()
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        _copy(raw, table, rows)
    else:
        _executemany(raw, connection.dialect, table, rows)


def _column_values(table: Table, rows: list[dict], convert: dict) -> tuple[list[str], list]:
    names = [c.name for c in table.columns if any(c.name in r for r in rows[:50])]
    defaults = {c.name: (c.default.arg if c.default is not None and c.default.is_scalar else None)
                for c in table.columns}
    getters = [(n, defaults[n], convert.get(n)) for n in names]
    values = [
        tuple((p(v) if p is not None and v is not None else v)
              for n, d, p in getters for v in (row.get(n, d),))
        for row in rows
    ]
    return names, values


def _executemany(raw, dialect, table: Table, rows: list[dict]) -> None:
    processors = {c.name: c.type.dialect_impl(dialect).bind_processor(dialect)
                  for c in table.columns}
    names, values = _column_values(table, rows, {k: p for k, p in processors.items() if p})
    sql = (f'INSERT INTO "{table.name}" ({", ".join(f"{chr(34)}{n}{chr(34)}" for n in names)})'
           f' VALUES ({", ".join("?" * len(names))})')
    raw.executemany(sql, values)


def _copy(raw, table: Table, rows: list[dict]) -> None:
    """Binary COPY, as the push path writes (:func:`portal.services.sync.binary_copy`)."""
    json_columns = {c.name for c in table.columns if c.type.__class__.__name__ == "JSON"}
    from psycopg.types.json import Json  # only needed on PostgreSQL

    names, values = _column_values(table, rows, {n: Json for n in json_columns})
    columns = ", ".join(f'"{n}"' for n in names)
    with raw.cursor() as cursor:
        binary_copy(cursor, f'COPY "{table.name}" ({columns}) FROM STDIN (FORMAT BINARY)',
                    table, names, values)


# --- building -------------------------------------------------------------------------------


def calibrate_volume(spec: Spec) -> float:
    """The demo volume that gives about ``spec.records`` records, from a sample of the dealers."""
    config = generator.DemoConfig(seed=spec.seed, dealers=spec.dealers, months=spec.months,
                                  today=spec.today, volume=1.0)
    plans = generator.plan_dealers(config)
    sample = plans[:: max(1, len(plans) // 24)]
    made = sum(sum(map(len, d.records.values())) for d in generator.generate(config, sample))
    per_size = made / sum(p.size for p in sample)
    return max(0.05, min(8.0, spec.records / (per_size * sum(p.size for p in plans))))


def build(url: str, spec: Spec, echo: Echo) -> int:
    """Create the schema and fill it; returns the number of synced records written."""
    migrate.upgrade(url)
    volume = calibrate_volume(spec)
    echo(f"  generating {spec.dealers} dealers at volume {volume:.3f} (seed {spec.seed})")
    config = generator.DemoConfig(seed=spec.seed, dealers=spec.dealers, months=spec.months,
                                  today=spec.today, volume=volume)
    engine = make_engine(url)
    try:
        with set_scope(Session(engine), Scope.everything("benchmark-build")) as session:
            result = seed_demo(session=session, config=config, insert_rows=bulk_insert,
                               progress=lambda line: echo(f"  {line}"))
            session.commit()
            echo(f"  seeded {sum(result.counts.values()):,} rows in {result.seconds:.0f} s")
            placed = place_orders(session, spec)
            echo(f"  placed {placed:,} vehicle orders")
            started = time.perf_counter()
            months = metrics.last_months(spec.today)
            metrics.refresh(session, months=months)
            session.commit()
            echo(f"  refreshed the metrics aggregates in {time.perf_counter() - started:.0f} s")
        analyze(engine)
        return record_count(engine)
    finally:
        engine.dispose()


def record_count(engine) -> int:
    from portal.services.sync import TABLES

    with engine.connect() as conn:
        return sum(conn.execute(select(func.count()).select_from(t.__table__)).scalar_one()
                   for t in TABLES.values())


def analyze(engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def place_orders(session: Session, spec: Spec) -> int:
    """``orders_per_dealer`` orders per dealer over the last six months, vehicles moved along."""
    rng = random.Random(f"{spec.seed}:benchmark-orders")
    specs = [catalogue.build_spec(session=session, model_id=i)
             for i in sorted(session.exec(select(CarModel.id).where(CarModel.active)))]
    lines = [line for s in specs if (line := _valid_line(s, rng)) is not None]
    now = dt.datetime.combine(spec.today, dt.time(), dt.UTC)
    placed = 0
    for dealer_id in session.exec(select(Dealer.id).order_by(Dealer.id)).all():
        for _ in range(spec.orders_per_dealer):
            at = now - dt.timedelta(minutes=rng.randrange(180 * 24 * 60))
            _place(session, dealer_id, rng.choice(lines), at, now, rng)
            placed += 1
        session.commit()
    return placed


def _valid_line(spec: catalogue.ModelSpec, rng: random.Random) -> orders.LineInput | None:
    for trim in spec.trims:
        for colour in spec.colours:
            selection = catalogue.Selection(trim.code, colour.code)
            if catalogue.check_configuration(spec, selection).ok:
                return orders.LineInput(spec.model_id, trim.code, colour.code,
                                        quantity=rng.randint(1, 3))
    return None


def _place(session: Session, dealer_id: int, line: orders.LineInput, at: dt.datetime,
           now: dt.datetime, rng: random.Random) -> None:
    retail = rng.random() < 0.6
    data = orders.OrderInput(kind="retail" if retail else "stock", delivery_point="展厅",
                             lines=(line,), customer_name="王先生" if retail else "")
    order = orders.create_order(session=session, dealer_id=dealer_id, data=data,
                                actor=orders.Actor("benchmark"), now=at)
    age_days = (now - at).days  # older orders are further along
    stage = PRODUCTION_STAGES[min(len(PRODUCTION_STAGES) - 1, max(0, age_days // 3))]
    for vehicle in session.exec(select(OrderVehicle).where(OrderVehicle.order_id == order.id)):
        vehicle.stage, vehicle.stage_at = Stage(stage), at + dt.timedelta(days=age_days // 2)
        session.add(vehicle)


# --- the cache ------------------------------------------------------------------------------


def prepare(backend: str, spec: Spec, *, pg_admin_url: str, cache_dir: Path, work_dir: Path,
            echo: Echo) -> Dataset:
    """A working copy of the dataset of *spec* on *backend*, built first if not cached."""
    if backend == "sqlite":
        return _prepare_sqlite(spec, cache_dir, work_dir, echo)
    return _prepare_postgresql(spec, pg_admin_url, echo)


def _prepare_sqlite(spec: Spec, cache_dir: Path, work_dir: Path, echo: Echo) -> Dataset:
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached = cache_dir / f"sqlite-{spec.key}.db"
    seconds = None
    if not cached.exists():
        echo(f"building the SQLite dataset {cached} (not cached yet)")
        started, building = time.perf_counter(), cache_dir / f"building-{spec.key}-{os.getpid()}.db"
        build(f"sqlite:///{building}", spec, echo)
        building.rename(cached)
        seconds = time.perf_counter() - started
    migrate.upgrade(f"sqlite:///{cached}")  # migrations added since it was built
    work_dir.mkdir(parents=True, exist_ok=True)
    copy = work_dir / "portal.db"
    shutil.copyfile(cached, copy)
    url = f"sqlite:///{copy}"
    engine = create_engine(url)
    count = record_count(engine)
    engine.dispose()
    return Dataset(url, spec, count, seconds, lambda: None)


def _prepare_postgresql(spec: Spec, admin_url: str, echo: Echo) -> Dataset:
    cached, seconds = f"bench_{spec.key}", None
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        if not _database_exists(admin, cached):
            echo(f"building the PostgreSQL dataset {cached} (not cached yet)")
            started, building = time.perf_counter(), f"{cached}_building"
            _recreate(admin, building)
            build(_with_database(admin_url, building), spec, echo)
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{cached}"'))
            seconds = time.perf_counter() - started
        migrate.upgrade(_with_database(admin_url, cached))  # migrations added since it was built
        working = f"bench_run_{os.getpid()}"
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{working}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{working}" TEMPLATE "{cached}"'))
    finally:
        admin.dispose()
    url = _with_database(admin_url, working)
    engine = create_engine(url)
    count = record_count(engine)
    engine.dispose()
    return Dataset(url, spec, count, seconds, lambda: _drop(admin_url, working))


def _database_exists(admin, name: str) -> bool:
    with admin.connect() as conn:
        return conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                            {"n": name}).first() is not None


def _recreate(admin, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))


def _drop(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)
