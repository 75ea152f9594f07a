"""Write the generated demo data into the portal database, as if every agent had synced it.

Records go straight into the record tables (version 1, no agent, ``received_at`` =
``updated_at``) with bulk inserts in chunks, dealer by dealer, so memory stays flat
however many dealers are generated. A ``demo.seeded`` audit entry marks a seeded
database: seeding it again does nothing and says so; seeding a database that already
holds other dealers is refused, so demo data never mixes with real data.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, insert
from sqlmodel import Session, select

from common.enums import Role
from portal.demo import generator
from portal.demo.generator import AgentPlan, DealerData, DemoConfig, UserSpec
from portal.demo.orders import seed_demo_orders
from portal.demo.reference import REGIONS
from portal.models import (
    Agent,
    AgentSyncDay,
    AuditLog,
    Complaint,
    Contact,
    Dealer,
    Lead,
    Region,
    RepairOrder,
    RepairPart,
    Sale,
    Survey,
    User,
)
from portal.services.catalogue_seed import seed_catalogue
from portal.services.users import hash_password

SEEDED_ACTION = "demo.seeded"
InsertRows = Callable[[Session, type, list[dict]], None]
CHUNK = 5_000


class DemoDataExists(RuntimeError):
    """The database already holds dealers that are not demo data."""


@dataclass
class SeedResult:
    """What was seeded (or found), the time taken, and the logins to print."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    logins: list[UserSpec] = field(default_factory=list)
    already_seeded: bool = False


def seed_demo(*, session: Session, config: DemoConfig,
              progress: Callable[[str], None] | None = None,
              insert_rows: InsertRows | None = None) -> SeedResult:
    """Fill an empty portal with demo data; the caller commits.

    *insert_rows(session, model, rows)* replaces the chunked Core insert of the records (the
    benchmark suite loads millions of rows with COPY or a raw executemany).
    """
    dealers = generator.plan_dealers(config)
    logins = generator.demo_users(config, dealers)
    if _already_seeded(session):
        return SeedResult(logins=[u for u in logins if _exists(session, u.username)],
                          already_seeded=True)
    _refuse_if_not_empty(session)
    started = time.perf_counter()
    writer = _Writer(session, insert_rows)
    writer.counts["catalogue"] = seed_catalogue(session)
    dealer_ids = _insert_places(session, dealers, writer.counts)
    _insert_users(session, logins, dealer_ids, writer.counts)
    for data in generator.generate(config, dealers):
        agent = generator.dealer_agent(config, data.dealer)
        writer.add_dealer(data, dealer_ids[data.dealer.code], agent)
        if progress and (data.dealer.index + 1) % 100 == 0:
            progress(f"{data.dealer.index + 1} dealers generated")
    writer.flush()
    writer.counts["orders"] = seed_demo_orders(session, seed=config.seed, now=config.cutoff)
    _mark_seeded(session, config, writer.counts)
    return SeedResult(writer.counts, time.perf_counter() - started, logins)


def _already_seeded(session: Session) -> bool:
    stmt = select(func.count()).select_from(AuditLog).where(AuditLog.action == SEEDED_ACTION)
    return session.exec(stmt).one() > 0


def _exists(session: Session, username: str) -> bool:
    return session.exec(select(User.id).where(User.username == username)).first() is not None


def _refuse_if_not_empty(session: Session) -> None:
    dealers = session.exec(select(func.count()).select_from(Dealer)).one()
    if dealers:
        raise DemoDataExists(
            f"the database already holds {dealers} dealer(s) that are not demo data; "
            "seed-demo only fills an empty portal — point DATABASE_URL at a new database "
            "(or delete the SQLite file) and run it again"
        )


def _insert_places(session: Session, dealers: list[generator.DealerPlan],
                   counts: dict[str, int]) -> dict[str, int]:
    """Insert the regions and dealers; return the dealer ids by code."""
    regions = {r.code: Region(code=r.code, name_zh=r.zh, name_en=r.en) for r in REGIONS}
    session.add_all(regions.values())
    session.flush()
    rows = [Dealer(code=d.code, name_zh=d.name_zh, name_en=d.name_en,
                   region_id=regions[d.region.code].id, city_zh=d.city.zh, city_en=d.city.en)
            for d in dealers]
    session.add_all(rows)
    session.flush()
    counts.update(region=len(regions), dealer=len(rows))
    return {row.code: row.id for row in rows}


def _insert_users(session: Session, users: list[UserSpec], dealer_ids: dict[str, int],
                  counts: dict[str, int]) -> None:
    """Bulk-insert the demo users, hashing each distinct password once."""
    hashes = {password: hash_password(password) for password in {u.password for u in users}}
    region_ids = dict(session.exec(select(Region.code, Region.id)).all())
    rows = [{"username": u.username, "password_hash": hashes[u.password], "role": u.role,
             "display_name": u.display_name, "active": True,
             "dealer_id": dealer_ids[u.dealer_code] if u.dealer_code else None,
             "region_id": region_ids[u.region_code] if u.region_code else None}
            for u in users]
    session.execute(insert(User), rows)
    counts["user"] = len(rows)


def _mark_seeded(session: Session, config: DemoConfig, counts: dict[str, int]) -> None:
    detail = {"seed": config.seed, "dealers": config.dealers, "months": config.months,
              "today": config.today.isoformat(), "volume": config.volume, "counts": counts}
    session.add(AuditLog(action=SEEDED_ACTION, actor="seed-demo", target=f"seed {config.seed}",
                         detail=detail))
    session.flush()


# --- wire records to rows -----------------------------------------------------------------

_MODELS = {"sale": Sale, "repair_order": RepairOrder, "lead": Lead, "contact": Contact,
           "complaint": Complaint, "survey": Survey, "repair_part": RepairPart, "agent": Agent,
           "agent_sync_day": AgentSyncDay}
_TABLE_NAMES = {kind: model.__tablename__ for kind, model in _MODELS.items()}


def record_row(record: dict, dealer_id: int) -> dict:
    """Turn a generated wire record into the row the sync ingest would store."""
    row = {k: v for k, v in record.items()
           if k not in ("kind", "dealer_code", "customer", "vehicle", "parts")}
    row.update(dealer_id=dealer_id, agent_id=None, received_at=record["updated_at"])
    if record["kind"] == "sale":
        row.update({f"customer_{k}": v for k, v in record["customer"].items()})
        row["customer_type"] = row.pop("customer_customer_type")
        row.update(record["vehicle"])
    elif record["kind"] == "repair_order":
        row["parts_count"] = len(record["parts"])
    return row


def agent_row(agent: AgentPlan, dealer_id: int, records: int) -> dict:
    """The dealer's agent, enrolled at the start of the period, last seen at its last sync."""
    first_day = dt.datetime.combine(agent.sync_days[0], dt.time(9), generator.SHANGHAI)
    pending_age = (24 * 3600.0 if agent.pending_count else None)
    return {"dealer_id": dealer_id, "id": agent.id, "name": "前台电脑 front-desk PC",
            "token_hash": agent.token_hash, "epoch": 1, "high_water_seq": records,
            "created_at": first_day.astimezone(dt.UTC), "agent_version": "0.1.0",
            "last_seen_at": agent.last_success_at, "last_success_at": agent.last_success_at,
            "pending_count": agent.pending_count, "oldest_pending_age_s": pending_age,
            "quarantine_count": agent.quarantine_count}


def part_rows(order: dict, dealer_id: int) -> list[dict]:
    return [{"dealer_id": dealer_id, "record_id": order["record_id"], "line": line, **part}
            for line, part in enumerate(order["parts"], start=1)]


class _Writer:
    """Buffers rows per table and bulk-inserts them in chunks."""

    def __init__(self, session: Session, insert_rows: InsertRows | None = None) -> None:
        self.session = session
        self.insert_rows = insert_rows or _insert_chunk
        self.buffers: dict[str, list[dict]] = {kind: [] for kind in _MODELS}
        self.counts: dict[str, int] = {}

    def add_dealer(self, data: DealerData, dealer_id: int, agent: AgentPlan) -> None:
        self._add("agent", agent_row(agent, dealer_id, sum(map(len, data.records.values()))))
        for day in agent.sync_days:
            self._add("agent_sync_day", {"dealer_id": dealer_id, "agent_id": agent.id, "day": day})
        for kind, records in data.records.items():
            for record in records:
                self._add(kind, record_row(record, dealer_id))
                if kind == "repair_order":
                    for part in part_rows(record, dealer_id):
                        self._add("repair_part", part)

    def _add(self, kind: str, row: dict) -> None:
        buffer = self.buffers[kind]
        buffer.append(row)
        if len(buffer) >= CHUNK:
            self._write(kind)

    def _write(self, kind: str) -> None:
        rows = self.buffers[kind]
        if rows:
            self.insert_rows(self.session, _MODELS[kind], rows)
            self.counts[_TABLE_NAMES[kind]] = self.counts.get(_TABLE_NAMES[kind], 0) + len(rows)
            self.buffers[kind] = []

    def flush(self) -> None:
        for kind in self.buffers:
            self._write(kind)


def _insert_chunk(session: Session, model: type, rows: list[dict]) -> None:
    # render_nulls keeps rows with None in one batch instead of one statement per shape
    session.execute(insert(model).execution_options(render_nulls=True), rows)


def format_report(result: SeedResult) -> str:
    """The command's output: counts and time, then the demo logins."""
    if result.already_seeded:
        lines = ["Demo data is already loaded; nothing was changed."]
    else:
        total = sum(result.counts.values())
        lines = [f"Seeded {total:,} rows in {result.seconds:.1f} s:"]
        lines += [f"  {table:<12} {count:>9,}" for table, count in result.counts.items()]
    lines.append("Demo logins (username / password):")
    lines += login_lines(result.logins)
    return "\n".join(lines)


def login_lines(logins: list[UserSpec]) -> list[str]:
    """One line per role and region user, with two example dealers; the rest follow the pattern."""
    shown = [u for u in logins if u.role in (Role.hq, Role.region_manager)]
    dealer_users = [u for u in logins if u.dealer_code]
    shown += dealer_users[:4]
    lines = [f"  {u.username:<18} {u.password:<18} {u.role.value}" for u in shown]
    if len(dealer_users) > 4:
        lines.append(f"  ... and <dealer code>.manager / .staff for all {len(dealer_users) // 2} "
                     "dealers (same passwords)")
    return lines
