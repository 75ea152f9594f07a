"""The agent's figures: catch-up after days offline, save-to-visible latency, idle footprint.

Each uses the real agent (``sync_agent`` store, coordinator, scheduler, `dealer-agent run`)
against the portal served by gunicorn, with its own fresh benchmark dealer.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, func, select

from portal.services.sync import TABLES
from sync_agent.client import Client
from sync_agent.coordinator import Coordinator
from sync_agent.runner import Runner
from sync_agent.store import Store
from tests.benchmark import workload
from tests.benchmark.server import process_cpu_seconds


@dataclass
class CatchUp:
    records: int
    seconds: float
    pending_after: int
    stored: int


@dataclass
class SaveToVisible:
    latencies: list[float] = field(default_factory=list)
    missing: int = 0


@dataclass
class Idle:
    rss_mb: float
    cpu_percent: float
    seconds: float


def enrolled_store(engine: Engine, base_url: str, data_dir: Path, prefix: str
                   ) -> tuple[Store, int, str]:
    """A new agent store enrolled (over HTTP) for a new dealer; returns it, dealer id and code."""
    (dealer_id, code), = workload.add_dealers(engine, prefix, 1)
    answer = workload.enroll(engine, base_url, [(dealer_id, code)])[0]
    store = Store.open(data_dir)
    store.enroll(portal_url=base_url, agent_id=answer.agent_id, token=answer.token,
                 dealer_code=code, epoch=answer.epoch)
    return store, dealer_id, code


def save(store_or_coordinator, record: dict):
    fields = {k: v for k, v in record.items() if k not in ("kind", "record_id")}
    return store_or_coordinator.save_record(record["kind"], fields,
                                            record_id=str(record["record_id"]))


def stored_count(engine: Engine, dealer_id: int) -> int:
    with engine.connect() as conn:
        return sum(conn.execute(select(func.count()).select_from(t.__table__)
                                .where(t.__table__.c.dealer_id == dealer_id)).scalar_one()
                   for t in TABLES.values())


def catch_up(engine: Engine, base_url: str, data_dir: Path, *, records: int, seed: int,
             today: dt.date) -> CatchUp:
    """Fill an offline agent's outbox, then time one sync from reconnecting to drained."""
    store, dealer_id, code = enrolled_store(engine, base_url, data_dir, "BC")
    try:
        with store.transaction():  # the saves of 30 days, made while offline
            for record in workload.records_for([code], records, seed=seed, today=today)[0]:
                save(store, record)
        queued = store.pending_count()
        with Coordinator(store, client_factory=lambda i: Client(i.portal_url, i.token)) as coord:
            began = time.perf_counter()
            report = coord.sync(force=True)
            seconds = time.perf_counter() - began
        if not report.ok:
            raise RuntimeError(f"catch-up sync failed: {report.error}")
        return CatchUp(queued, seconds, store.pending_count(), stored_count(engine, dealer_id))
    finally:
        store.close()


def save_to_visible(engine: Engine, base_url: str, data_dir: Path, *, saves: int, seed: int,
                    today: dt.date) -> SaveToVisible:
    """Save records one by one in a running agent; time each until the portal has it."""
    store, dealer_id, code = enrolled_store(engine, base_url, data_dir, "BS")
    result = SaveToVisible()
    coordinator = Coordinator(store)
    runner = Runner(coordinator, interval=30.0).start()
    try:
        _wait_idle(coordinator)
        for record in workload.records_for([code], saves, seed=seed, today=today)[0][:saves]:
            began = time.perf_counter()
            save(coordinator, record)
            if _wait_visible(engine, dealer_id, record, timeout=10.0):
                result.latencies.append(time.perf_counter() - began)
            else:
                result.missing += 1
            time.sleep(0.05)
    finally:
        runner.shutdown()
        coordinator.close()
        store.close()
    return result


def _wait_idle(coordinator: Coordinator, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if coordinator.store.get_meta("last_success") and not coordinator.syncing:
            return
        time.sleep(0.05)
    raise RuntimeError("the agent's first sync did not finish")


def _wait_visible(engine: Engine, dealer_id: int, record: dict, timeout: float) -> bool:
    table = TABLES[record["kind"]].__table__
    query = select(table.c.version).where(table.c.dealer_id == dealer_id,
                                          table.c.record_id == record["record_id"])
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            if conn.execute(query).first() is not None:
                return True
            conn.rollback()  # a fresh snapshot for the next look
            time.sleep(0.002)
    return False


def idle_footprint(data_dir: Path, *, settle: float, window: float) -> Idle:
    """Start `dealer-agent run` on an enrolled data dir; RSS and CPU from /proc while idle."""
    command = [str(Path(sys.executable).with_name("dealer-agent")), "run", "--data-dir",
               str(data_dir)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(settle)  # start-up and the first sync
        if process.poll() is not None:
            raise RuntimeError(f"dealer-agent run exited with {process.returncode}")
        cpu0, began = process_cpu_seconds(process.pid), time.monotonic()
        time.sleep(window)
        cpu1, elapsed = process_cpu_seconds(process.pid), time.monotonic() - began
        return Idle(_rss_mb(process.pid), 100.0 * (cpu1 - cpu0) / elapsed, elapsed)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc")
