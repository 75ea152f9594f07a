"""The SQLite write gate and the background WAL checkpointer (portal/sqlite_writes.py)."""

from __future__ import annotations

import gc
import threading
import time

from sqlalchemy import text

from portal import sqlite_writes
from portal.db import make_engine


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


def test_the_log_is_checkpointed_in_the_background_and_the_thread_ends_with_the_engine(tmp_path):
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

    threads = [t for t in threading.enumerate() if t.name.endswith(f" {path.name}")]
    assert threads and threads[0].is_alive()
    engine.dispose()
    del engine, conn
    gc.collect()
    threads[0].join(timeout=5)
    assert not threads[0].is_alive()
