"""How the portal writes to a SQLite file under load: pushes queue on a gate, WAL checkpoints
run beside the writers.

SQLite lets one connection write at a time. Two things made a stream of pushes slower than the
inserts themselves, both measured with the benchmark (tests/benchmark):

- A connection that finds the write lock taken polls it with growing sleeps (1, 2, 5 … 100 ms,
  sqlite3's busy handler), so the database sat idle while waiting writers slept. Pushes queue
  on an exclusive ``flock`` of a file beside the database instead (it works across threads and
  gunicorn's worker processes, and the kernel drops it if a process dies): the next push starts
  the moment the last one commits. Writers that do not take the gate (pages, jobs) still meet
  SQLite's own lock, as before.
- The commit that fills the write-ahead log past ``wal_autocheckpoint`` pages copies the log
  into the database inside that writer's transaction: about half of a push's time under the
  lock. A thread per process checkpoints in the background (PASSIVE: it never blocks a writer
  or a reader) every quarter second, and writers checkpoint themselves only past a larger
  backstop, when the background one has fallen behind.

PostgreSQL locks rows and checkpoints on its own: nothing here applies to it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator

from sqlalchemy import Engine, event

CHECKPOINT_EVERY_S = 0.25
BACKSTOP_PAGES = 8000  # ≈ 32 MB of log before a writer checkpoints by itself (SQLite: 1000)
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024  # the log file is truncated back to this after a reset


def database_file(engine: Engine) -> str | None:
    """The database file of a SQLite engine; None for other databases and in-memory ones."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return url.database


@contextlib.contextmanager
def gate(engine: Engine) -> Iterator[None]:
    """Hold the write gate of *engine*'s database file (if any) for the enclosed transaction."""
    path = database_file(engine)
    if path is None:
        yield
        return
    fd = os.open(f"{path}.write-gate", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def configure(dbapi_connection) -> None:
    """Per connection: leave routine checkpoints to the background thread."""
    dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    dbapi_connection.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")


_checkpointers: dict[tuple[int, str], tuple[threading.Thread, threading.Event]] = {}
_lock = threading.Lock()


def start_checkpointer(engine: Engine) -> None:
    """Start this process's background checkpointer for *engine*'s file, once. It stops when
    the engine is disposed (so its connection is gone when ``dispose()`` returns and, as
    before, closing the last connection merges the log into the file) or garbage-collected."""
    path = database_file(engine)
    if path is None:
        return
    key = (os.getpid(), os.path.abspath(path))  # a forked worker starts its own
    with _lock:
        running = _checkpointers.get(key)
        if running is not None and running[0].is_alive():
            return
        stop = threading.Event()
        thread = threading.Thread(target=_checkpoint_until, args=(path, weakref.ref(engine), stop),
                                  name=f"sqlite-checkpoint {path}", daemon=True)
        _checkpointers[key] = thread, stop
        if not event.contains(engine, "engine_disposed", _stop_checkpointer):
            event.listen(engine, "engine_disposed", _stop_checkpointer)
        thread.start()


def _stop_checkpointer(engine: Engine) -> None:
    with _lock:
        running = _checkpointers.pop((os.getpid(), os.path.abspath(database_file(engine))), None)
    if running is not None:
        thread, stop = running
        stop.set()
        thread.join(timeout=10)


def _checkpoint_until(path: str, engine: weakref.ref, stop: threading.Event) -> None:
    connection = sqlite3.connect(path, timeout=0, check_same_thread=False)
    try:
        while not stop.wait(CHECKPOINT_EVERY_S) and engine() is not None:
            with contextlib.suppress(sqlite3.Error):  # busy or closing: the next round will do
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        connection.close()
