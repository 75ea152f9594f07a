"""Consistent SQLite copies, used by the portal's and the agent's backup commands."""

from __future__ import annotations

import sqlite3
from pathlib import Path


class BackupError(RuntimeError):
    """A backup or restore failed; the message says why."""


def copy_database(source: Path, target: Path) -> None:
    """Copy page by page with the online backup API; readers and writers may carry on."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def check_backup(path: Path, required_tables: set[str], what: str) -> None:
    """Refuse *path* unless it is an intact SQLite database holding *required_tables*."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a SQLite database: {error}") from error
    if not ok or not required_tables <= tables:
        raise BackupError(f"{path} is not an intact {what} backup")
