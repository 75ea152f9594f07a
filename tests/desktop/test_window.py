"""A real pywebview window (Qt) under Xvfb: it shows the status, its JS bridge answers, it closes.

The window runs in a subprocess with a timeout so a hang cannot block the suite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sync_agent.runner import DataDirLock
from tests.unit.agent_fakes import enrolled_store, lead

pytestmark = pytest.mark.desktop
PROBE = Path(__file__).with_name("window_probe.py")
ROOT = Path(__file__).resolve().parents[2]


def _free_display() -> int:
    for number in range(90, 190):
        if not Path(f"/tmp/.X{number}-lock").exists() and \
                not Path(f"/tmp/.X11-unix/X{number}").exists():
            return number
    raise RuntimeError("no free X display number between :90 and :189")


@pytest.fixture(scope="module")
def xvfb():
    """An Xvfb display for the module; yields the environment a window needs."""
    pytest.importorskip("webview")
    if not shutil.which("Xvfb"):
        pytest.skip("Xvfb is not installed (.ci/setup-system installs it)")
    number = _free_display()
    server = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1280x900x24",
                               "-nolisten", "tcp"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    env = {**os.environ, "DISPLAY": f":{number}", "QT_QPA_PLATFORM": "xcb",
           "PYWEBVIEW_GUI": "qt", "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox --disable-gpu",
           "PYTHONPATH": str(ROOT)}
    yield env
    server.terminate()
    server.wait(timeout=10)


def open_and_probe(env: dict, data_dir: Path, shot: str = "") -> tuple[dict, str]:
    done = subprocess.run([sys.executable, str(PROBE), str(data_dir)],
                          env={**env, "WINDOW_SHOT": shot}, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    lines = done.stdout.splitlines()
    probe = [json.loads(line[6:]) for line in lines if line.startswith("PROBE ")]
    assert done.returncode == 0 and probe, done.stdout + done.stderr[-3000:]
    return probe[0], lines[-1]


def test_the_window_shows_the_status_and_says_syncing_stops_on_close(xvfb, tmp_path):
    with enrolled_store(tmp_path) as store:
        store.save_record("lead", lead())
    probe, closing = open_and_probe(xvfb, tmp_path, shot="/tmp/window_desktop.png")
    assert probe["dom"]["pending"] == 1 and probe["dom"]["mode"] == "window"
    assert probe["dom"]["portal"] == "http://127.0.0.1:9" and probe["dom"]["epoch"] == "1"
    assert probe["api"]["pending_count"] == 1 and probe["api"]["dealer_code"] == "SH001"
    assert "syncing stopped" in closing and "dealer-agent run" in closing


def test_with_a_background_service_the_window_leaves_syncing_to_it(xvfb, tmp_path):
    enrolled_store(tmp_path).close()
    with DataDirLock(tmp_path):  # held as `dealer-agent run` holds it
        probe, closing = open_and_probe(xvfb, tmp_path)
    assert probe["dom"]["mode"] == "service" and probe["api"]["mode"] == "service"
    assert "background service keeps syncing" in closing
