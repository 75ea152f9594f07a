"""What the benchmark ran on: cores, memory, CPU model, load, Python and database versions."""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.benchmark.server import process_cpu_seconds


def describe(pg_url: str | None) -> dict[str, str]:
    info = {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": f"{_mem_total_gb():.1f} GB",
        "load average (1/5/15 min) at start": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "os": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
    }
    if pg_url:
        info["postgresql"] = _pg_server(pg_url)
    return info


def _cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _mem_total_gb() -> float:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


# the server settings an ingest or a page's figures depend on most, shown beside the version
PG_SETTINGS = ("shared_buffers", "max_wal_size", "checkpoint_timeout", "synchronous_commit")


def _pg_server(url: str) -> str:
    """The server's version and PG_SETTINGS, e.g. ``15.14 (shared_buffers 128MB, …)``."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
            settings = [f"{name} {conn.execute(text(f'SHOW {name}')).scalar_one()}"
                        for name in PG_SETTINGS]
            return f"{version} ({', '.join(settings)})"
    except Exception as error:  # noqa: BLE001 - the table says why instead of failing the run
        return f"unavailable ({type(error).__name__})"
    finally:
        engine.dispose()


def load_average() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def postgres_cpu_seconds() -> float:
    """CPU time used so far by this machine's PostgreSQL processes (backends, autovacuum,
    WAL writer …): 0 when the server runs elsewhere. A backend that exits takes its time
    with it, which the portal's pooled connections do not do during a measurement."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "cmdline").read_bytes().startswith(b"postgres:"):
                total += process_cpu_seconds(int(entry.name))
        except OSError:
            continue  # gone meanwhile
    return total
