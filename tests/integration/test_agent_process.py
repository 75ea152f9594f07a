"""`dealer-agent run` as a real process syncing to the live portal while another process imports."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import func, select

from portal.models import Lead
from portal.services import agents
from sync_agent.cli import main


def agent(*args: str) -> list[str]:
    return [sys.executable, "-m", "sync_agent", *args]


def portal_leads(db) -> int:
    count = db.exec(select(func.count()).select_from(Lead)).one()
    db.commit()
    return count


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_running_agent_drains_what_another_process_imports(db, make_dealer, live_portal,
                                                           tmp_path):
    issued = agents.issue_enrollment(session=db, dealer=make_dealer(), actor="test")
    db.commit()
    data_dir = str(tmp_path / "agent")
    assert main(["enroll", "--portal", live_portal, "--code", issued.code,
                 "--data-dir", data_dir]) == 0
    rows = [{"kind": "lead", "name": f"客户{n}", "phone": "13812345678",
             "purchase_timeframe": "immediate", "source": "walk_in"} for n in range(300)]
    (tmp_path / "leads.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    runner = subprocess.Popen(agent("run", "--data-dir", data_dir, "--interval", "1"),
                              stderr=subprocess.PIPE, text=True)
    try:
        subprocess.run(agent("import", str(tmp_path / "leads.jsonl"), "--data-dir", data_dir),
                       check=True, capture_output=True, timeout=120)
        deadline = time.monotonic() + 60
        while portal_leads(db) < 300 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert portal_leads(db) == 300
        assert rss_mb(runner.pid) < 80  # the idle target of the headless agent
        status = json.loads(subprocess.run(agent("status", "--json", "--data-dir", data_dir),
                                           capture_output=True, check=True, text=True).stdout)
        assert status["pending_count"] == 0 and status["state"] == "online"
        runner.send_signal(signal.SIGTERM)
        _, log = runner.communicate(timeout=30)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.communicate()
    assert runner.returncode == 0, log
