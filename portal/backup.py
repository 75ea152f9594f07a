"""Backup and restore of the portal database: SQLite's online backup API, PostgreSQL's pg_dump.

A SQLite backup is a consistent copy taken while the portal keeps serving. A PostgreSQL backup
is pg_dump's custom format, restored with pg_restore --clean (the portal should be stopped for
a restore, and the server's client tools must match its major version).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from common.sqlite_backup import BackupError, check_backup, copy_database

__all__ = ["BackupError", "backup", "restore"]


def backup(url: str, target: Path) -> None:
    """Write a consistent copy of the database at *url* to *target*."""
    if make_url(url).get_backend_name() == "sqlite":
        copy_database(_sqlite_path(url), target)
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq(url)])


def restore(url: str, source: Path) -> None:
    """Replace the database at *url* by the backup *source* (stop the portal first)."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist or is not a file")
    if make_url(url).get_backend_name() == "sqlite":
        check_backup(source, {"alembic_version"}, "portal database")
        copy_database(source, _sqlite_path(url))
    else:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={_libpq(url)}", str(source)])


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
