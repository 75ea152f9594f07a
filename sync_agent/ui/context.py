"""What the window works on: the store, the coordinator and who syncs while it is open.

If a background service (``dealer-agent run``) holds the data directory's lock, it keeps
syncing and the window only reads and writes the store; "sync now" then asks the service
through the store. Otherwise the window takes the lock and runs the scheduler itself for as
long as it is open. Imports run in a thread and report their progress here.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sync_agent.coordinator import Coordinator
from sync_agent.importer import ImportReport, import_rows
from sync_agent.mapping import Mapping, Table
from sync_agent.runner import SYNC_REQUEST, AgentLocked, DataDirLock, Runner
from sync_agent.store import Store

log = logging.getLogger("sync_agent")
SERVICE, WINDOW, READ_ONLY = "service", "window", "none"  # who syncs


@dataclass
class SyncProgress:
    """A sync a person asked for: how many records were pending when it started."""

    total: int
    started: float
    done: bool = False
    error: str | None = None


@dataclass
class ImportJob:
    """One uploaded export on its way through mapping, preview and import."""

    id: str
    filename: str
    table: Table
    mapping: Mapping
    source: str = ""
    done: int = 0
    total: int = 0
    running: bool = False
    report: ImportReport | None = None
    error: str | None = None
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


class LocalAgent:
    """The store and sync of one data directory, as the local UI sees them."""

    def __init__(self, data_dir: str | Path, *, sync: bool = True, interval: float = 30.0,
                 coordinator_factory=Coordinator) -> None:
        self.data_dir = Path(data_dir)
        self.store = Store.open(self.data_dir)
        self.coordinator: Coordinator = coordinator_factory(self.store)
        self._sync_wanted, self._interval = sync, interval
        self._lock = DataDirLock(self.data_dir)
        self.runner: Runner | None = None
        self.mode = READ_ONLY
        self.progress: SyncProgress | None = None
        self.imports: dict[str, ImportJob] = {}
        self._threads: list[threading.Thread] = []

    def start(self) -> LocalAgent:
        """Sync from here unless a background service already does."""
        if not self._sync_wanted:
            return self
        try:
            self._lock.acquire()
        except AgentLocked:
            self.mode = SERVICE
            return self
        self.mode = WINDOW
        self.runner = Runner(self.coordinator, interval=self._interval).start()
        return self

    def close(self) -> None:
        if self.runner is not None:
            self.runner.shutdown()
            self.runner = None
        for thread in self._threads:
            thread.join(timeout=30)
        self.coordinator.close()
        if self._lock.held:
            self._lock.release()
        self.store.close()

    @property
    def syncs_here(self) -> bool:
        return self.mode == WINDOW

    # -- syncing ------------------------------------------------------------------------------

    def sync_now(self) -> None:
        """Start a sync a person asked for; watch it with :meth:`sync_progress`."""
        self.progress = SyncProgress(total=self.store.pending_count(), started=time.time())
        if self.mode == WINDOW:
            self._spawn(self._sync_in_background, self.progress)
        else:
            self.store.set_meta(**{SYNC_REQUEST: dt.datetime.now(dt.UTC).isoformat()})

    def _sync_in_background(self, progress: SyncProgress) -> None:
        try:
            report = self.coordinator.sync(force=True)
            progress.error = None if report.ok else (report.error or report.skipped)
        except Exception as error:  # the person asked: say what went wrong, don't hide it
            log.exception("Sync now failed")
            progress.error = str(error)
        progress.done = True

    def sync_progress(self) -> dict[str, Any] | None:
        """Sent so far of the records pending when "sync now" was pressed, while it runs."""
        progress = self.progress
        if progress is None:
            return None
        if self.mode != WINDOW and not progress.done:
            self._check_service_done(progress)
        pending = self.store.pending_count()
        sent = min(progress.total, max(0, progress.total - pending))
        return {"total": progress.total, "sent": sent, "done": progress.done,
                "error": progress.error, "waiting": self.mode != WINDOW and not progress.done
                and self.store.get_meta(SYNC_REQUEST) is not None}

    def _check_service_done(self, progress: SyncProgress) -> None:
        if self.mode == READ_ONLY:
            progress.done, progress.error = True, "no_sync"
            return
        if self.store.get_meta(SYNC_REQUEST) is not None:
            return
        for key in ("last_success", "last_error_at"):
            value = self.store.get_meta(key)
            if value and dt.datetime.fromisoformat(value).timestamp() >= progress.started - 1:
                progress.done = True
                progress.error = self.store.get_meta("last_error") if key != "last_success" \
                    else None

    # -- imports ------------------------------------------------------------------------------

    def new_import(self, filename: str, table: Table, mapping: Mapping, source: str) -> ImportJob:
        job = ImportJob(uuid.uuid4().hex, filename, table, mapping, source)
        self.imports = {k: v for k, v in self.imports.items() if v.running} | {job.id: job}
        return job

    def run_import(self, job: ImportJob, rows: list[tuple[int, dict[str, Any]]]) -> None:
        job.running, job.done, job.total, job.report, job.error = True, 0, len(rows), None, None
        self._spawn(self._import, job, rows)

    def _import(self, job: ImportJob, rows: list[tuple[int, dict[str, Any]]]) -> None:
        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        try:
            job.report = import_rows(self.store, rows, kind=job.mapping.kind, progress=progress)
            job.done = job.total
            self.coordinator.request_sync()
        except Exception as error:  # shown on the progress page instead of vanishing
            log.exception("Import of %s failed", job.filename)
            job.error = str(error)
        job.running = False

    def _spawn(self, target, *args: Any) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()
