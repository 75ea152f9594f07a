"""The portal served by its production server (`dealer-portal serve`, gunicorn) on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Portal:
    """`dealer-portal serve` as a child process; stop() ends it (and its workers) by its id."""

    def __init__(self, database_url: str, data_dir: Path, *, workers: int,
                 threads: int | None = None,
                 log: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": database_url, "DEALER_PORTAL_DATA": str(data_dir),
               "DEALER_PORTAL_JOBS": "0"}  # no periodic jobs competing with the measurement
        command = [str(Path(sys.executable).with_name("dealer-portal")), "serve",
                   "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
                   *(["--threads", str(threads)] if threads else [])]  # none: serve's default
        self._log = open(log or os.devnull, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, env=env, stdout=self._log, stderr=self._log)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the portal exited with status {self.process.returncode}")
            try:
                if requests.get(self.url + "/api/v1/openapi.json", timeout=2).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the portal did not answer within a minute")

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server: gunicorn's master and its live workers."""
        return sum(process_cpu_seconds(pid) for pid in (self.process.pid,
                                                        *_children(self.process.pid)))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn stops its workers gracefully
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def __enter__(self) -> Portal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of *pid* from /proc (0 when it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
