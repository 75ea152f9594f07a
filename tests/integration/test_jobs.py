"""Periodic jobs run once across processes, guarded by a lease in the database."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlmodel import select

from portal import jobs
from portal.models import JobLock


@pytest.fixture
def counting_job():
    runs: list[int] = []
    jobs.register("test.count", lambda session: runs.append(1), every=dt.timedelta(minutes=10))
    yield runs
    jobs._JOBS.pop("test.count")


def test_job_runs_once_per_period(engine, counting_job):
    assert jobs.run_once(engine, "test.count") is True
    assert jobs.run_once(engine, "test.count") is False
    assert counting_job == [1]


def test_force_runs_again(engine, counting_job):
    jobs.run_once(engine, "test.count")
    assert jobs.run_once(engine, "test.count", force=True) is True
    assert len(counting_job) == 2


def test_concurrent_processes_run_it_once(engine, counting_job):
    threads = [threading.Thread(target=jobs.run_once, args=(engine, "test.count"))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counting_job == [1]


def test_failure_is_recorded_and_lease_released(engine, db):
    def boom(session):
        raise ValueError("no data")

    jobs.register("test.boom", boom, every=dt.timedelta(minutes=10))
    try:
        assert jobs.run_once(engine, "test.boom") is True
    finally:
        jobs._JOBS.pop("test.boom")
    lock = db.exec(select(JobLock).where(JobLock.name == "test.boom")).one()
    assert lock.last_error == "ValueError: no data"
    assert lock.lease_until is None
