"""The portal served by `dealer-portal serve` (gunicorn with portal.http_worker) on loopback,
for the tests of the server itself."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests


@dataclass
class Served:
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(data_dir: Path, *, workers: int = 1, **env: str) -> Served:
    env = {**os.environ, "DEALER_PORTAL_DATA": str(data_dir), "DEALER_PORTAL_JOBS": "0", **env}
    cli = [str(Path(sys.executable).with_name("dealer-portal"))]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    command = [*cli, "serve", "--port", str(port := free_port()), "--workers", str(workers)]
    served = Served(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL), port)
    for _ in range(100):
        try:
            requests.get(f"{served.url}/login", timeout=1)
            return served
        except requests.ConnectionError:
            time.sleep(0.1)
    served.stop()
    raise RuntimeError("the portal did not start")
