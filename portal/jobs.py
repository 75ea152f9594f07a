"""Periodic portal jobs (metrics, escalations) that run once across all portal processes.

Every portal process may run the scheduler; a lease row per job in the database
(``JobLock``) lets exactly one process run each due job. A job is a plain function
taking a system session; it is registered with :func:`register` by its feature.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import Engine, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from portal.models import JobLock, utcnow
from portal.tenancy import Scope, set_scope

log = logging.getLogger(__name__)
JobFunc = Callable[[Session], object]


@dataclass(frozen=True)
class Job:
    name: str
    func: JobFunc
    every: dt.timedelta


_JOBS: dict[str, Job] = {}


def register(name: str, func: JobFunc, *, every: dt.timedelta) -> None:
    """Make *func* a periodic job; features call this at import time."""
    _JOBS[name] = Job(name, func, every)


def registered() -> dict[str, Job]:
    return dict(_JOBS)


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim(engine: Engine, job: Job, now: dt.datetime, owner: str, force: bool) -> bool:
    """Take the job's lease if it is free and the job is due; True when this process runs it."""
    with engine.begin() as conn:
        try:
            with conn.begin_nested():
                conn.execute(insert(JobLock).values(name=job.name, owner=""))
        except IntegrityError:
            pass
        stmt = (
            update(JobLock)
            .where(JobLock.name == job.name)
            .where((JobLock.lease_until.is_(None)) | (JobLock.lease_until < now))
            .values(owner=owner, lease_until=now + max(job.every, dt.timedelta(minutes=5)))
        )
        if not force:  # due only when the last run is at least most of a period ago
            stmt = stmt.where(
                (JobLock.last_run_at.is_(None)) | (JobLock.last_run_at <= now - job.every * 0.9)
            )
        return conn.execute(stmt).rowcount == 1


def _release(engine: Engine, job: Job, owner: str, error: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(JobLock)
            .where(JobLock.name == job.name, JobLock.owner == owner)
            .values(lease_until=None, last_run_at=utcnow(), last_error=error[:1000])
        )


def run_once(engine: Engine, name: str, *, force: bool = False) -> bool:
    """Run job *name* if no other process runs it and it is due; return whether it ran."""
    job, owner = _JOBS[name], owner_id()
    if not _claim(engine, job, utcnow(), owner, force):
        return False
    error = ""
    try:
        with set_scope(Session(engine, expire_on_commit=False), Scope.everything(name)) as session:
            job.func(session)
            session.commit()
    except Exception as exc:  # a failing job must not kill the scheduler; it is recorded
        error = f"{type(exc).__name__}: {exc}"
        log.exception("job %s failed", name)
    finally:
        _release(engine, job, owner, error)
    return True


def init_app(app: Flask) -> None:
    """Start the scheduler in this process when RUN_JOBS is set (off in tests and CLI)."""
    if not app.config.get("RUN_JOBS") or not _JOBS:
        return
    engine = app.extensions["db_engine"]
    scheduler = BackgroundScheduler(daemon=True)
    for job in _JOBS.values():
        scheduler.add_job(run_once, "interval", args=[engine, job.name], id=job.name,
                          seconds=min(job.every.total_seconds(), 60), max_instances=1,
                          coalesce=True)
    scheduler.start()
    app.extensions["scheduler"] = scheduler
