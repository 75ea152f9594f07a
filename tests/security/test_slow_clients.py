"""A slow client (slowloris: headers trickling in) does not hold up other requests on the real
server (`dealer-portal serve`: gunicorn with threaded workers) on loopback.

Limit, measured: a client that keeps trickling header bytes holds one gunicorn thread; as many
slow clients as threads x workers (6 against 1 worker x 4 threads) starve the server. Production
therefore runs behind a buffering reverse proxy (nginx) that only passes complete requests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

SLOW_CLIENTS = 3  # fewer than the 4 threads of one worker: see the module docstring


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served_portal(tmp_path):
    env = {**os.environ, "DEALER_PORTAL_DATA": str(tmp_path), "DEALER_PORTAL_JOBS": "0"}
    cli = [str(Path(sys.executable).with_name("dealer-portal"))]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([*cli, "serve", "--port", str(port), "--workers", "1"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(f"{url}/login", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    yield port, url
    server.terminate()
    server.wait(timeout=15)


def _slowloris(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    return sock


def test_a_slow_client_does_not_hold_up_other_requests(served_portal):
    port, url = served_portal
    slow = [_slowloris(port) for _ in range(SLOW_CLIENTS)]
    try:
        time.sleep(0.5)
        for sock in slow:
            sock.sendall(b"a")  # still trickling, never finishing the headers
        started = time.monotonic()
        response = requests.get(f"{url}/login", timeout=10)
        elapsed = time.monotonic() - started
    finally:
        for sock in slow:
            sock.close()
    assert response.status_code == 200 and elapsed < 1.0, elapsed
