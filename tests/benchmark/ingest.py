"""Ingest over HTTP (full protocol) against a bare bulk insert of the same rows (DESIGN §10).

Several agents (each its own dealer, token and thread) push pre-encoded batches of 500 back to
back, as agents draining a backlog do; the rate is records answered per second of wall time.
Then the same row dicts the push path writes (``portal.services.sync.record_row``) go into the
same tables of the same database for twin dealers with :func:`dataset.bulk_insert` (COPY on
PostgreSQL, a raw executemany on SQLite), committed per 500 records like the pushes, no
validation. The ratio of the two rates is the protocol's overhead.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from common.protocol import MAX_BATCH_RECORDS
from common.schemas import parse_record
from portal.models import RepairPart
from portal.services.sync import TABLES, record_row
from portal.tenancy import Scope, set_scope
from tests.benchmark import workload
from tests.benchmark.dataset import bulk_insert


@dataclass
class IngestResult:
    agents: int
    records: int = 0
    seconds: float = 0.0
    outcomes: Counter = field(default_factory=Counter)
    stored: int = 0
    bare_records: int = 0
    bare_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    server_cpu_s: float = 0.0  # gunicorn's processes during the pushes (SQLite work included)
    database_cpu_s: float = 0.0  # PostgreSQL's processes on this machine during the pushes
    client_cpu_s: float = 0.0  # this process: the agents' threads posting and reading answers

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    @property
    def bare_rate(self) -> float:
        return self.bare_records / self.bare_seconds if self.bare_seconds else 0.0

    @property
    def ratio(self) -> float:
        return self.rate / self.bare_rate if self.bare_rate else 0.0


def measure(engine: Engine, base_url: str, *, total: int, agents: int, seed: int,
            today: dt.date, server_cpu: Callable[[], float] = lambda: 0.0,
            database_cpu: Callable[[], float] = lambda: 0.0, label: str = "") -> IngestResult:
    """One round: *agents* new dealers push *total* records, then twin dealers take the same
    rows by bulk insert. *label* tells the dealers of one round from another's."""
    result = IngestResult(agents=agents)
    enrolled = workload.enroll(engine, base_url,
                               workload.add_dealers(engine, f"BI{label}", agents))
    streams = workload.records_for([a.dealer_code for a in enrolled], total, seed=seed + 1,
                                   today=today)
    bodies = [_bodies(agent, stream) for agent, stream in zip(enrolled, streams, strict=True)]
    server0, client0, database0 = server_cpu(), time.process_time(), database_cpu()
    _push_all(base_url, enrolled, bodies, result)
    result.server_cpu_s = server_cpu() - server0
    result.database_cpu_s = database_cpu() - database0
    result.client_cpu_s = time.process_time() - client0
    result.stored = _stored(engine, [a.dealer_id for a in enrolled])
    twins = workload.add_dealers(engine, f"BB{label}", agents)
    batches = [_rows(stream, dealer_id) for (dealer_id, _), stream in zip(twins, streams,
                                                                          strict=True)]
    result.bare_records = sum(len(s) for s in streams)
    result.bare_seconds = bare_insert(engine, [b for agent in batches for b in agent])
    return result


def _bodies(agent: workload.Enrolled, stream: list[dict]) -> list[bytes]:
    chunks = [stream[i:i + MAX_BATCH_RECORDS] for i in range(0, len(stream), MAX_BATCH_RECORDS)]
    return [workload.push_body(agent, chunk, 1 + n * MAX_BATCH_RECORDS,
                               len(stream) - n * MAX_BATCH_RECORDS)
            for n, chunk in enumerate(chunks)]


def _push_all(base_url: str, enrolled: list, bodies: list[list[bytes]],
              result: IngestResult) -> None:
    start = threading.Barrier(len(enrolled) + 1)
    threads = [threading.Thread(target=_agent_pushes, name=f"agent-{a.dealer_code}",
                                args=(base_url, a, b, start, result))
               for a, b in zip(enrolled, bodies, strict=True)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began


def _agent_pushes(base_url: str, agent, bodies: list[bytes], start: threading.Barrier,
                  result: IngestResult) -> None:
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {agent.token}",
                            "Content-Type": "application/json"})
    start.wait()
    try:
        for body in bodies:
            response = session.post(base_url + "/api/v1/sync/push", data=body, timeout=120)
            if response.status_code != 200:
                result.errors.append(f"{agent.dealer_code}: {response.status_code} "
                                     f"{response.text[:200]}")
                return
            outcomes = Counter(item["outcome"] for item in response.json()["results"])
            result.outcomes.update(outcomes)  # Counter.update holds the GIL throughout
            result.records += sum(outcomes.values())
    finally:
        session.close()


def _stored(engine: Engine, dealer_ids: list[int]) -> int:
    with set_scope(Session(engine), Scope.everything("benchmark")) as session:
        return sum(session.exec(select(func.count()).select_from(t)
                                .where(t.dealer_id.in_(dealer_ids))).one()
                   for t in TABLES.values())


def _rows(stream: list[dict], dealer_id: int) -> list[dict[type, list[dict]]]:
    """Per batch of 500, the table rows the push path would write for these records."""
    now = dt.datetime.now(dt.UTC)
    batches = []
    for i in range(0, len(stream), MAX_BATCH_RECORDS):
        tables: dict[type, list[dict]] = {}
        for raw in stream[i:i + MAX_BATCH_RECORDS]:
            record = parse_record(workload.wire(raw))
            row = record_row(record, dealer_id=dealer_id, agent_id=None, now=now)
            tables.setdefault(RepairPart, []).extend(row.pop("_parts", []))
            tables.setdefault(TABLES[record.kind], []).append(row)
        batches.append(tables)
    return batches


def bare_insert(engine: Engine, batches: list[dict[type, list[dict]]]) -> float:
    """Seconds to insert every batch, one transaction each."""
    began = time.perf_counter()
    with set_scope(Session(engine), Scope.everything("benchmark")) as session:
        for tables in batches:
            for model, rows in tables.items():
                bulk_insert(session, model, rows)
            session.commit()
    return time.perf_counter() - began
