"""Backup and restore of an agent's store with SQLite's online backup API.

A backup may be taken while the agent runs. A restore needs the agent stopped (the data
directory lock). After a restore the store's sequence is behind what the portal received; on
the next push the portal answers ``sequence_regressed`` and the agent starts a new epoch and
renumbers its outbox, so nothing in the backup is lost or applied twice; record versions jump
ahead so that edits made after the restore never reuse a version the portal already holds.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from common.sqlite_backup import BackupError, check_backup, copy_database
from sync_agent.store import DB_NAME

__all__ = ["BackupError", "backup_store", "restore_store"]

RESTORE_VERSION_JUMP = 1000  # edits of one record between a backup and its restore, at most


def backup_store(data_dir: Path, target: Path) -> None:
    """Write a consistent copy of the store in *data_dir* to *target*."""
    source = data_dir / DB_NAME
    if not source.is_file():
        raise BackupError(f"no agent store in {data_dir}")
    copy_database(source, target)


def restore_store(data_dir: Path, source: Path) -> None:
    """Replace the store in *data_dir* by *source* (hold the data directory lock)."""
    check_backup(source, {"meta", "outbox"}, "agent store")
    data_dir.mkdir(parents=True, exist_ok=True)
    copy_database(source, data_dir / DB_NAME)
    (data_dir / DB_NAME).chmod(0o600)  # the token lives in the store
    _skip_versions(data_dir / DB_NAME)


def _skip_versions(path: Path) -> None:
    """Move every record's version past any the portal may have received since the backup.

    Edits synced after the backup are not in the restored store, so the next local edit
    would reuse a version number the portal holds and be answered as a duplicate — lost.
    Versions only need to grow, so they jump by a margin no PC reaches between backups.
    """
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute("UPDATE records SET version = version + ?", (RESTORE_VERSION_JUMP,))
    finally:
        conn.close()
