"""Run the portal under gunicorn, the production WSGI server."""

from __future__ import annotations

import gc
import os

from gunicorn.app.base import BaseApplication

from portal import create_app
from portal.http_worker import LoadBoard

GC_THRESHOLD = 50_000  # allocations between collections of the youngest generation


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        app = create_app({"RUN_JOBS": os.environ.get("DEALER_PORTAL_JOBS", "1") == "1"})
        # The app's long-lived objects (routes, models, SQLAlchemy's caches, templates) leave
        # the collector's generations: every few pushes a full collection walked them all,
        # ~15 % of the CPU of an ingest (measured with tests/benchmark).
        gc.freeze()
        # A push of 500 records holds ~10,000 objects until it answers, and the default
        # threshold (700 allocations) made the collector walk them again and again: ~9 % of a
        # worker's CPU in an ingest, 1 % with this threshold. The request's objects are freed
        # by reference counting; the collector is only for cycles, which the portal rarely makes.
        gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
        return app


def default_threads(database_url: str) -> int:
    """Request threads per worker process when serve is not told.

    SQLite writes one transaction at a time, and a second thread in the writing process only
    shares the interpreter lock with the writer, so the write window lasts longer: ingest on
    2 cores was 14,700 records/s with 2 threads and 17,900 with 1, pages about even (p95 60 and
    65 ms). On PostgreSQL 2 threads measured best (ingest 20,400 against 18,500 with 1).
    """
    return 1 if database_url.startswith("sqlite") else 2


def run_gunicorn(*, host: str, port: int, workers: int, threads: int = 2, **extra) -> None:
    """Serve until stopped; each worker builds its own app (the portal is stateless)."""
    board = LoadBoard(slots=2 * workers + 2)  # room for replacements overlapping the old ones
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "portal.http_worker.BufferingWorker",  # slow clients hold no thread
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": None,
        "control_socket_disable": True,  # one shared ~/.gunicorn socket would mix portals
        "pre_fork": lambda arbiter, worker: board.assign(worker, arbiter.WORKERS.values()),
        "child_exit": lambda _arbiter, worker: _leave(board, worker),
        **extra,
    }
    _Gunicorn(options).run()


def _leave(board: LoadBoard, worker) -> None:
    if getattr(worker, "board", None) is board:
        board.clear(worker.board_slot)
