"""The README's demo command brings up the portal, demo data, an agent and the factory."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def agent_status(agent_dir: Path) -> dict | None:
    if not agent_dir.exists():
        return None
    out = subprocess.run([BIN / "dealer-agent", "status", "--json", "--data-dir", agent_dir],
                         capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 else None


def processes_mentioning(text: str) -> list[int]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text in cmdline.read_bytes().decode(errors="replace"):
                found.append(int(cmdline.parent.name))
        except OSError:  # the process ended while we looked
            continue
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One demo for the module: the last test stops it."""
    tmp_path = tmp_path_factory.mktemp("demo")
    port = free_port()
    env = {**os.environ, "DEALER_PORTAL_DATA": str(tmp_path / "var")}
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen([BIN / "dealer-portal", "demo", "--port", str(port)], env=env,
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    yield f"http://127.0.0.1:{port}", tmp_path / "var" / "agent-SH001", process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    process.stdout.close()


def test_demo_serves_portal_with_a_syncing_agent(demo):
    url, agent_dir, process = demo
    status = wait_for(lambda: (s := agent_status(agent_dir)) and s.get("last_success") and s,
                      timeout=240, what="the demo agent's first successful sync")
    assert status["pending_count"] == 0
    session = requests.Session()
    login = session.get(f"{url}/login", timeout=10).text
    token = login.split('name="csrf_token" type="hidden" value="')[-1].split('"')[0]
    page = session.post(f"{url}/login", data={"csrf_token": token, "username": "sh001.manager",
                                              "password": "manager-demo-2026"}, timeout=10)
    assert page.status_code == 200 and "SH001" in session.get(f"{url}/agents", timeout=10).text


def test_demo_stops_everything_on_sigterm(demo):
    url, agent_dir, process = demo
    wait_for(lambda: agent_status(agent_dir), timeout=240, what="the demo agent")
    process.send_signal(signal.SIGTERM)  # only the launcher: it must stop its children
    output, _ = process.communicate(timeout=60)
    assert "Demo logins" in output
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/login", timeout=2)
    assert processes_mentioning(str(agent_dir)) == []
