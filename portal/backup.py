"""Backup and restore of the portal database: SQLite's online backup API, PostgreSQL's pg_dump.

A SQLite backup is a consistent copy taken while the portal keeps serving. A PostgreSQL backup
is pg_dump's custom format, restored with pg_restore --clean (the portal should be stopped for
a restore, and the server's client tools must match its major version).
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """A backup or restore failed; the message says why."""


def backup(url: str, target: Path) -> None:
    """Write a consistent copy of the database at *url* to *target*."""
    if make_url(url).get_backend_name() == "sqlite":
        _sqlite_copy(_sqlite_path(url), target)
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq(url)])


def restore(url: str, source: Path) -> None:
    """Replace the database at *url* by the backup *source* (stop the portal first)."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist or is not a file")
    if make_url(url).get_backend_name() == "sqlite":
        _check_sqlite(source)
        _sqlite_copy(source, _sqlite_path(url))
    else:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={_libpq(url)}", str(source)])


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy page by page with the online backup API; readers and writers may carry on."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _check_sqlite(path: Path) -> None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            has_portal = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = "
                                      "'alembic_version'").fetchone()[0] == 1
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a SQLite database: {error}") from error
    if not (ok and has_portal):
        raise BackupError(f"{path} is not an intact portal database backup")


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(database)


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as libpq understands it (no '+driver')."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-500:]}")
