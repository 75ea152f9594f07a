"""The SQLite write gate and the background WAL checkpointer (portal/sqlite_writes.py)."""

from __future__ import annotations

import gc
import shutil
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text

from portal import sqlite_writes
from portal.db import make_engine
from portal.server import default_threads


def test_the_gate_admits_one_writer_at_a_time(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'portal.db'}")
    inside, order = threading.Event(), []

    def second_writer():
        inside.wait()
        with sqlite_writes.gate(engine):
            order.append("second")

    thread = threading.Thread(target=second_writer)
    thread.start()
    with sqlite_writes.gate(engine):
        inside.set()
        thread.join(timeout=0.5)  # it must still be queued on the gate
        order.append("first")
    thread.join(timeout=10)
    assert order == ["first", "second"]
    engine.dispose()


def test_no_gate_for_postgresql_or_memory():
    for url in ("sqlite://", "postgresql+psycopg://u:p@127.0.0.1/db"):
        engine = make_engine(url)
        assert sqlite_writes.database_file(engine) is None
        with sqlite_writes.gate(engine):
            pass  # nothing to wait for
        engine.dispose()


def test_the_log_is_checkpointed_in_the_background(tmp_path):
    path = tmp_path / "portal.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == \
            sqlite_writes.BACKSTOP_PAGES
        conn.execute(text("CREATE TABLE blob (data BLOB)"))
        for _ in range(100):  # 2 MB: far below the backstop, so no writer checkpoints it
            conn.execute(text("INSERT INTO blob VALUES (randomblob(20000))"))
    deadline = time.monotonic() + 10
    while path.stat().st_size < 2_000_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.stat().st_size >= 2_000_000  # the pages reached the database file
    engine.dispose()


def test_after_dispose_the_database_file_alone_holds_everything(tmp_path):
    """As without the checkpointer: the last connection closed merges the log into the file,
    so a copy of the file (a test template, a benchmark dataset) holds every table."""
    path = tmp_path / "portal.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE kept (n INTEGER)"))
        conn.execute(text("INSERT INTO kept VALUES (42)"))
    threads = [t for t in threading.enumerate() if t.name.endswith(f" {path}")]
    engine.dispose()
    assert threads and not any(t.is_alive() for t in threads)
    assert not path.with_name("portal.db-wal").exists()
    copy = tmp_path / "copy.db"
    shutil.copyfile(path, copy)
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT n FROM kept").fetchall() == [(42,)]


def test_the_checkpointer_ends_with_its_engine(tmp_path):
    path = tmp_path / "portal.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect():
        pass
    threads = [t for t in threading.enumerate() if t.name.endswith(f" {path}")]
    assert threads
    del engine
    gc.collect()
    for thread in threads:
        thread.join(timeout=5)
    assert not any(t.is_alive() for t in threads)


@pytest.mark.parametrize(("url", "threads"), [
    ("sqlite:////var/lib/portal.db", 1), ("sqlite://", 1),
    ("postgresql+psycopg://u:p@db/portal", 2)])
def test_serve_runs_one_thread_per_worker_on_sqlite(url, threads):
    assert default_threads(url) == threads
