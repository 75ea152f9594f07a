"""Run the coordinator on a schedule: APScheduler 3 single-flight plus a data-directory lock.

The lock keeps a second agent (another ``run``, a ``sync``, or the window when it syncs) off
the same data directory; the scheduler job runs with ``max_instances=1`` and ``coalesce=True``
so ticks never overlap or pile up, and the coordinator can pull the next tick forward (after a
save, or when a short backoff ends).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from filelock import FileLock, Timeout
from platformdirs import user_data_dir

from sync_agent.coordinator import Coordinator
from sync_agent.store import Store

log = logging.getLogger("sync_agent")
DATA_ENV = "DEALER_AGENT_DATA"
LOCK_NAME = "agent.lock"
JOB_ID = "sync"
DEFAULT_INTERVAL = 30.0
# The window asks a background service to sync now by setting this store key; polled cheaply.
SYNC_REQUEST = "sync_requested"
REQUEST_POLL = 2.0


def default_data_dir() -> Path:
    """``$DEALER_AGENT_DATA``, else the per-user data directory of "dealer-agent"."""
    return Path(os.environ.get(DATA_ENV) or user_data_dir("dealer-agent", appauthor=False))


class AgentLocked(RuntimeError):
    """Another agent process already syncs from this data directory."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(f"Another dealer agent is already running on {data_dir}; only one may "
                         "sync a data directory at a time. Stop it first, or use `dealer-agent "
                         "status` to see what it is doing.")


class DataDirLock:
    """An exclusive, non-blocking lock on a data directory, held for as long as the agent runs."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = FileLock(self.data_dir / LOCK_NAME, thread_local=False)

    def acquire(self) -> DataDirLock:
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise AgentLocked(self.data_dir) from None
        return self

    def release(self) -> None:
        self._lock.release()

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class Runner:
    """Syncs one data directory every *interval* seconds in a background thread."""

    def __init__(self, coordinator: Coordinator, *, interval: float = DEFAULT_INTERVAL) -> None:
        self.coordinator = coordinator
        self.interval = interval
        self.stopped = threading.Event()
        self._scheduler = BackgroundScheduler(timezone=dt.UTC)
        self._scheduler.add_job(self._tick, "interval", seconds=interval, id=JOB_ID,
                                max_instances=1, coalesce=True, misfire_grace_time=None,
                                next_run_time=dt.datetime.now(dt.UTC))
        self._scheduler.add_job(self._answer_request, "interval", seconds=REQUEST_POLL,
                                id="requests", max_instances=1, coalesce=True)
        coordinator.wakeup = self.run_in

    def start(self) -> Runner:
        self._scheduler.start()
        return self

    def shutdown(self) -> None:
        """Stop ticking and wait for a cycle in progress to finish."""
        self.coordinator.wakeup = None
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self.stopped.set()

    def run_in(self, seconds: float) -> None:
        """Bring the next cycle forward to *seconds* from now (if that is sooner)."""
        if seconds == 0 and self.coordinator.syncing:
            return  # the running cycle pushes again, or _tick reschedules when it ends
        job = self._scheduler.get_job(JOB_ID)
        when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
        if job is not None and (job.next_run_time is None or when < job.next_run_time):
            job.modify(next_run_time=when)

    def _tick(self) -> None:
        try:
            report = self.coordinator.sync()
        except Exception:  # the scheduler thread must survive anything, and say what it was
            log.exception("The sync cycle failed unexpectedly; it will run again next tick.")
            return
        if self.coordinator.stopped:
            self.stopped.set()
        elif report.ok and self.coordinator.wake_pending:
            self.run_in(0)  # a save arrived as the cycle ended

    def _answer_request(self) -> None:
        """Sync at once, ignoring any backoff, when the window's "sync now" asked for it."""
        store = self.coordinator.store
        try:
            if store.get_meta(SYNC_REQUEST) is None:
                return
            store.set_meta(**{SYNC_REQUEST: None})
            self.coordinator.sync(force=True)
        except Exception:  # same as _tick: keep the scheduler alive and say why
            log.exception("A sync requested from the window failed unexpectedly.")


def run_forever(data_dir: Path, *, interval: float = DEFAULT_INTERVAL,
                coordinator_factory=Coordinator) -> str | None:
    """Sync *data_dir* until SIGTERM/SIGINT (returns None) or until syncing stops (the reason)."""
    with DataDirLock(data_dir), Store.open(data_dir) as store:
        coordinator = coordinator_factory(store)
        runner = Runner(coordinator, interval=interval)
        previous = {s: signal.signal(s, lambda *_: runner.stopped.set())
                    for s in (signal.SIGTERM, signal.SIGINT)}
        log.info("Dealer agent syncing %s every %g s.", data_dir, interval)
        try:
            runner.start()
            while not runner.stopped.wait(1.0):
                pass
        finally:
            runner.shutdown()
            coordinator.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return store.get_meta("halted_message")
