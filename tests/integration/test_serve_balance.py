"""New connections go to the worker of `dealer-portal serve` holding fewest (portal.http_worker's
LoadBoard), and a hung or killed worker does not keep them waiting.

Real server, 2 workers, real keep-alive connections on loopback; which worker holds a connection
is read from /proc (the worker's socket inodes against /proc/net/tcp).
"""

from __future__ import annotations

import http.client
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal.http_worker import HEARTBEAT_STALE
from tests.served import Served, serve

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")

_ESTABLISHED = "01"


@dataclass
class Balanced:
    served: Served
    workers: list[int]
    connections: list[http.client.HTTPConnection]  # one held by each worker

    @property
    def port(self) -> int:
        return self.served.port


@pytest.fixture
def portal(tmp_path):
    """Both workers serving: each holds one kept-alive connection (a worker still loading the
    app publishes no count, and meanwhile the other takes every connection)."""
    served = serve(tmp_path, workers=2)
    workers = _workers(served.process.pid)
    deadline = time.monotonic() + 60
    try:
        while True:
            connections = [_connect(served.port) for _ in range(2)]
            if sorted(_held(pid, served.port) for pid in workers) == [1, 1]:
                break
            for connection in connections:
                connection.close()
            assert time.monotonic() < deadline, "the workers never shared two connections"
            time.sleep(0.2)
        yield Balanced(served, workers, connections)
        for connection in connections:
            connection.close()
    finally:
        served.stop()


def _workers(master: int) -> list[int]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if len(children) == 2:
            return [int(pid) for pid in children]
        time.sleep(0.1)
    raise AssertionError(f"expected 2 workers, found {children}")


def _held(pid: int, port: int) -> int:
    """Established connections to *port* whose socket *pid* holds."""
    established = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == _ESTABLISHED:
            established.add(fields[9])
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return len(established & inodes)


def _connect(port: int) -> http.client.HTTPConnection:
    """A kept-alive connection that has been answered once (so a worker has accepted it)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/login")
    response = connection.getresponse()
    response.read()
    assert response.status == 200
    return connection


def test_connections_are_spread_evenly_over_the_workers(portal):
    connections = [_connect(portal.port) for _ in range(10)]
    try:
        assert sorted(_held(pid, portal.port) for pid in portal.workers) == [6, 6]
    finally:
        for connection in connections:
            connection.close()


def test_a_hung_worker_delays_new_connections_only_until_its_heartbeat_is_stale(portal):
    first, _second = portal.workers
    connections = [_connect(portal.port) for _ in range(2)]  # two each now
    held_by_first = _held(first, portal.port)
    os.kill(first, signal.SIGSTOP)
    try:
        began = time.monotonic()
        connections += [_connect(portal.port) for _ in range(3)]  # each answered, by `second`
        assert time.monotonic() - began < HEARTBEAT_STALE + 2
        assert _held(first, portal.port) == held_by_first
    finally:
        os.kill(first, signal.SIGCONT)
        for connection in connections:
            connection.close()


def test_a_killed_workers_place_is_freed_at_once(portal):
    first, _second = portal.workers
    connections = [_connect(portal.port) for _ in range(2)]
    os.kill(first, signal.SIGKILL)
    try:
        began = time.monotonic()
        connections += [_connect(portal.port) for _ in range(3)]
        assert time.monotonic() - began < 2  # no waiting for the dead worker's heartbeat
    finally:
        for connection in connections:
            connection.close()
