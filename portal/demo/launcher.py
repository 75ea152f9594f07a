"""`dealer-portal demo`: the whole product on one machine with one command.

Migrates the embedded database, seeds the demo data (once), serves the portal with
its production server, enrols a real sync agent for the first demo dealer, gives it
a few records captured "today" so there is something to push, and keeps the agent
and the factory simulator running until Ctrl-C.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests
from flask import Flask

from portal import db, migrate
from portal.demo import generator
from portal.demo import reference as ref
from portal.demo import seed as demo_seed
from portal.services import agents, metrics

Echo = Callable[[str], None]


@dataclass(frozen=True)
class DemoSettings:
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 2
    agent_interval: int = 10

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def _bin(name: str) -> str:
    """The console script installed beside this Python (the virtual environment's)."""
    return str(Path(sys.executable).with_name(name))


def prepare_database(app: Flask, echo: Echo) -> demo_seed.SeedResult:
    """Create or upgrade the schema and seed the demo data unless it is there already."""
    migrate.upgrade(app.config["DATABASE_URL"])
    with app.app_context(), db.system_session("demo") as session:
        result = demo_seed.seed_demo(session=session, config=generator.DemoConfig(),
                                     progress=echo)
        session.commit()
        if not result.already_seeded:  # the scorecard has figures from the first page view
            echo("computing the CRM-usage metrics of the last 13 months ...")
            metrics.refresh(session, months=metrics.last_months(metrics.utcnow().date()))
            session.commit()
    return result


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    """Wait for the portal to answer; fail early if its process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the portal exited with status {process.returncode}")
        try:
            if requests.get(f"{url}/login", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the portal did not answer on {url} within {timeout:.0f} s")


def enrol_agent(app: Flask, settings: DemoSettings, agent_dir: Path, dealer_code: str) -> None:
    """Issue a one-time code in the portal and enrol the agent with it, as a manager would."""
    from sync_agent.store import Store

    if agent_dir.exists():
        with Store.open(agent_dir) as store:
            if store.identity() is not None:
                return
    with app.app_context(), db.system_session("demo") as session:
        dealer = agents.dealer_by_code(session=session, code=dealer_code)
        issued = agents.issue_enrollment(session=session, dealer=dealer, actor="demo")
        session.commit()
    subprocess.run([_bin("dealer-agent"), "enroll", "--portal", settings.url, "--code",
                    issued.code, "--data-dir", str(agent_dir), "--name", "Demo front desk"],
                   check=True)


def capture_today(agent_dir: Path, count: int = 12) -> int:
    """Save a few new leads at the agent, as the sales desk would during the day."""
    from sync_agent.store import Store

    rng = random.Random()
    saved = 0
    with Store.open(agent_dir) as store:
        for _ in range(count):
            name = rng.choice(ref.SURNAMES) + "".join(rng.sample(ref.GIVEN, 2))
            phone = rng.choice(ref.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            store.save_record("lead", {
                "name": name, "phone": phone, "interested_model": rng.choice(["GL8", "君越"]),
                "purchase_timeframe": rng.choice(["immediate", "within_3_months"]),
                "source": rng.choice(["walk_in", "phone", "website"]), "salesperson": "",
            })
            saved += 1
    return saved


def run_demo(app: Flask, settings: DemoSettings, echo: Echo) -> int:
    """Start everything, print how to use it, and stop everything on Ctrl-C."""
    result = prepare_database(app, echo)
    data_dir = Path(app.config["DATA_DIR"])
    dealer_code = next(u.dealer_code for u in result.logins if u.dealer_code)
    processes: list[subprocess.Popen] = []
    try:
        portal = _start(processes, [_bin("dealer-portal"), "serve", "--host", settings.host,
                                    "--port", str(settings.port), "--workers",
                                    str(settings.workers)])
        wait_until_up(settings.url, portal)
        agent_dir = data_dir / f"agent-{dealer_code}"
        enrol_agent(app, settings, agent_dir, dealer_code)
        capture_today(agent_dir)
        _start(processes, [_bin("dealer-agent"), "run", "--data-dir", str(agent_dir),
                           "--interval", str(settings.agent_interval)])
        _start(processes, [_bin("dealer-portal"), "simulate-factory"])
        echo(banner(settings, result, agent_dir))
        return _wait(portal)
    finally:
        _stop(processes)


def banner(settings: DemoSettings, result: demo_seed.SeedResult, agent_dir: Path) -> str:
    return "\n".join([
        "",
        f"Dealer portal demo running on {settings.url}  (Ctrl-C stops everything)",
        f"Agent data directory: {agent_dir}",
        f"  status:  {_bin('dealer-agent')} status --data-dir {agent_dir}",
        f"  window:  {_bin('dealer-agent')} window --data-dir {agent_dir}",
        "Demo logins:",
        *demo_seed.login_lines(result.logins),
        "",
    ])


def _start(processes: list[subprocess.Popen], argv: list[str]) -> subprocess.Popen:
    process = subprocess.Popen(argv)
    processes.append(process)
    return process


def _wait(portal: subprocess.Popen) -> int:
    signal.signal(signal.SIGTERM, lambda *_: portal.terminate())
    try:
        return portal.wait()
    except KeyboardInterrupt:
        return 0


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in reversed(processes):
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
