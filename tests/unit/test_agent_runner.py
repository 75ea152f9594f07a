"""Scheduling: the data-directory lock, single-flight ticks, wake-ups, and `run` as a process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from sync_agent.client import TransientError
from sync_agent.coordinator import Coordinator
from sync_agent.runner import AgentLocked, DataDirLock, Runner
from tests.unit.agent_fakes import FakePortal, enrolled_store, lead


def agent_process(*args: str) -> list[str]:
    return [sys.executable, "-m", "sync_agent", *args]


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_lock_excludes_a_second_agent_in_process(tmp_path):
    with DataDirLock(tmp_path), pytest.raises(AgentLocked, match="already running"):
        DataDirLock(tmp_path).acquire()
    DataDirLock(tmp_path).acquire().release()  # free again once the first let go


def test_second_agent_process_exits_with_a_clear_message(tmp_path):
    with DataDirLock(tmp_path):
        done = subprocess.run(agent_process("sync", "--data-dir", str(tmp_path)),
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 4 and "already running" in done.stderr


class SlowPortal(FakePortal):
    def __init__(self) -> None:
        super().__init__()
        self.running = self.most = 0
        self.lock = threading.Lock()

    def push(self, body):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        try:
            return super().push(body)
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def running(tmp_path):
    portal = SlowPortal()
    with enrolled_store(tmp_path) as store:
        coordinator = Coordinator(store, client_factory=lambda identity: portal)
        runner = Runner(coordinator, interval=3600).start()
        yield runner, coordinator, portal
        runner.shutdown()


def test_save_triggers_an_immediate_push(running):
    runner, coordinator, portal = running
    assert wait_for(lambda: portal.pushes)  # the first tick runs at start
    coordinator.save_record("lead", lead())
    assert wait_for(lambda: coordinator.store.pending_count() == 0 and portal.applied, 5)


def test_ticks_never_overlap(running):
    runner, coordinator, portal = running
    for _ in range(20):
        coordinator.save_record("lead", lead())
        runner.run_in(0)
    assert wait_for(lambda: coordinator.store.pending_count() == 0, 10)
    assert portal.most == 1 and sum(portal.applied.values()) == 20


def test_run_process_stops_gracefully_on_sigterm(tmp_path):
    enrolled_store(tmp_path).close()  # its portal address (port 9) answers nothing
    process = subprocess.Popen(agent_process("run", "--data-dir", str(tmp_path), "--interval",
                                             "0.2"), stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2.5)
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert log.count("Sync failed") == 1  # the outage is logged once, not every tick
    DataDirLock(tmp_path).acquire().release()  # the lock was released


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_store_file_is_private(tmp_path):
    enrolled_store(tmp_path).close()
    assert (tmp_path / "agent.db").stat().st_mode & 0o077 == 0


def test_saves_while_offline_do_not_spin(running):
    runner, coordinator, portal = running
    portal.fail_next.extend(TransientError("down") for _ in range(1000))
    for _ in range(5):
        coordinator.save_record("lead", lead())
        time.sleep(0.2)
    assert len(portal.pushes) < 8 and coordinator.store.pending_count() == 5
