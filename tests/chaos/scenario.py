"""The chaos scenario of DESIGN §11, shared by the chaos test and the soak command.

The portal runs under its production server (``dealer-portal serve``, gunicorn) on a fresh
database migrated with ``dealer-portal db upgrade``; agents run as ``dealer-agent run``
processes, each talking to the portal through its own listener of the fault proxy; one writer
process saves records into every agent's store and keeps a ledger. While the proxy injects
faults, agents are killed with SIGKILL in the middle of a push (the portal has applied the
batch, the agent has not heard back) and restarted on the same data directory, and the
portal is killed and started again. Then the faults stop, everything drains, and
:func:`check` compares every agent store, the ledger and the portal's database.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import requests
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from portal.db import make_engine
from portal.models import Dealer, Region, SyncReceipt
from portal.services import agents as agent_service
from portal.services.sync import TABLES
from portal.tenancy import Scope, set_scope
from sync_agent.cli import main as agent_cli
from tests.chaos.faultproxy import FaultProxy, FaultRates, Stats

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOLD_WAIT = 10.0  # seconds to wait for an agent's push to be in flight before killing anyway


class ScenarioFailed(AssertionError):
    """The scenario could not go on (a process did not start, an agent is stuck)."""


@dataclass
class Config:
    agents: int = 10
    dealers: int = 2
    chaos_seconds: float = 45.0
    kills: int = 4
    portal_restarts: int = 1
    rate: float = 80.0  # records saved per second, all agents together
    fault_level: float = 1.0  # 1: about 30 % of requests meet a fault
    seed: int = 1
    # an agent unlucky enough to fail many cycles in a row waits up to its backoff cap (300 s)
    drain_timeout: float = 330.0
    workers: int = 2
    interval: float = 1.0


@dataclass
class Figures:
    """What a run did and found; :meth:`problems` is empty when the run passed."""

    config: Config
    saved_versions: int = 0
    saved_records: int = 0
    kills_mid_push: int = 0
    kills_other: int = 0
    killed_batches: list[int] = field(default_factory=list)  # records in each push cut short
    killed_agents: list[str] = field(default_factory=list)
    portal_restarts: int = 0
    portal_kills_mid_request: int = 0
    chaos_seconds: float = 0.0
    drain_seconds: float | None = None
    wall_seconds: float = 0.0
    proxy: Stats = field(default_factory=Stats)
    missing: int = 0  # saved locally, absent at the portal (or at an older version)
    extra: int = 0  # at the portal, unknown to the agent stores
    duplicated: int = 0  # record_ids held more than once at the portal
    receipt_mismatches: int = 0  # saved (record_id, version) without a receipt, or the reverse
    ledger_mismatches: int = 0  # ledger entries the stores do not hold
    pending: int = 0
    quarantined: int = 0
    verify_failures: list[str] = field(default_factory=list)
    agent_exit_failures: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        counts = {"missing at the portal": self.missing, "extra at the portal": self.extra,
                  "held twice at the portal": self.duplicated,
                  "receipt mismatches": self.receipt_mismatches,
                  "ledger entries not in a store": self.ledger_mismatches,
                  "still pending": self.pending, "quarantined": self.quarantined}
        found = [f"{n} {what}" for what, n in counts.items() if n]
        found += [f"verify failed: {v}" for v in self.verify_failures]
        found += [f"agent exit: {v}" for v in self.agent_exit_failures]
        if self.drain_seconds is None:
            found.append("the agents did not drain")
        return found

    def as_dict(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["config"] = asdict(self.config)
        data["proxy"] = {f.name: getattr(self.proxy, f.name) for f in fields(self.proxy)}
        return data

    def report(self) -> str:
        stats = self.proxy
        rows = [
            ("agents / dealers", f"{self.config.agents} / {self.config.dealers}"),
            ("records saved (versions)", f"{self.saved_records} ({self.saved_versions})"),
            ("faults injected", _counter_text(stats.faults)),
            ("requests through the proxy", f"{stats.requests} on {stats.connections} connections"
                                           f"; portal unreachable {stats.upstream_down}"),
            ("portal answers by status", _counter_text(stats.statuses)),
            ("push outcomes (per record)", _counter_text(stats.push_outcomes)),
            ("duplicates answered", str(stats.push_outcomes.get("duplicate", 0))),
            ("agents killed (SIGKILL)", f"{self.kills_mid_push + self.kills_other} "
                                        f"({len(set(self.killed_agents))} agents; "
                                        f"{self.kills_mid_push} mid-push, batches of "
                                        f"{self.killed_batches} records)"),
            ("portal restarts (SIGKILL)", f"{self.portal_restarts} "
                                          f"({self.portal_kills_mid_request} mid-request)"),
            ("chaos phase", f"{self.chaos_seconds:.1f} s"),
            ("time to drain after faults stop",
             "did not drain" if self.drain_seconds is None else f"{self.drain_seconds:.1f} s"),
            ("losses (missing at the portal)", str(self.missing)),
            ("extra / held twice at the portal", f"{self.extra} / {self.duplicated}"),
            ("verify", "all agents 0" if not self.verify_failures
             else f"{len(self.verify_failures)} failed"),
            ("wall time", f"{self.wall_seconds:.1f} s"),
        ]
        width = max(len(name) for name, _ in rows)
        lines = [f"{name:<{width}}  {value}" for name, value in rows]
        problems = self.problems()
        lines.append("RESULT: " + ("PASS" if not problems else "FAIL: " + "; ".join(problems)))
        return "\n".join(lines)


def _counter_text(counter: Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items(), key=str)) or "none"


# -- processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class Portal:
    """``dealer-portal serve`` in its own process group, so a kill takes its workers too."""

    def __init__(self, workdir: Path, database_url: str, workers: int) -> None:
        self.port, self.workers = free_port(), workers
        self.log = workdir / "portal.log"
        self.env = {**os.environ, "DATABASE_URL": database_url,
                    "DEALER_PORTAL_DATA": str(workdir / "portal"), "SECRET_KEY": "chaos-secret"}
        self.proc: subprocess.Popen | None = None

    def migrate(self) -> None:
        done = subprocess.run([BIN / "dealer-portal", "db", "upgrade"], env=self.env,
                              capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise ScenarioFailed(f"dealer-portal db upgrade failed:\n{done.stderr[-2000:]}")

    def start(self, timeout: float = 60.0) -> None:
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(
                [BIN / "dealer-portal", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--workers", str(self.workers)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ScenarioFailed(f"the portal exited ({self.proc.returncode}):\n"
                                     f"{tail(self.log)}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"http://127.0.0.1:{self.port}/api/v1/openapi.json",
                                timeout=2).ok:
                    return
            time.sleep(0.2)
        raise ScenarioFailed(f"the portal did not answer within {timeout:.0f} s:\n"
                             f"{tail(self.log)}")

    def kill(self) -> None:
        self._signal_group(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)


class Agent:
    """One ``dealer-agent run`` process on its own data directory and proxy listener."""

    def __init__(self, name: str, workdir: Path, interval: float) -> None:
        self.name, self.interval = name, interval
        self.data_dir = workdir / name
        self.log = workdir / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.terminated = False

    def start(self) -> None:
        with self.log.open("a") as log:
            self.terminated = False
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "sync_agent", "run", "--data-dir", str(self.data_dir),
                 "--interval", str(self.interval)],
                stdout=log, stderr=subprocess.STDOUT, cwd=REPO)

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL
        self.proc.wait(timeout=30)

    def terminate(self) -> None:
        """SIGTERM once: a second one during the agent's shutdown would end it abruptly."""
        if self.proc.poll() is None and not self.terminated:
            self.proc.terminate()
            self.terminated = True

    def stop(self) -> int | None:
        """SIGTERM and wait; the exit status (None if it had to be killed)."""
        self.terminate()
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def query(self, sql: str) -> list[tuple]:
        """Read the agent's store directly (no write, so no lock on a running agent)."""
        conn = sqlite3.connect(self.data_dir / "agent.db", timeout=30)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def pending(self) -> int:
        return self.query("SELECT count(*) FROM outbox")[0][0]

    def describe(self) -> str:
        """Its ``dealer-agent status --json`` and log tail, for a failure message."""
        status = subprocess.run(self.command("status", "--json"), capture_output=True, text=True,
                                timeout=60, cwd=REPO)
        alive = "running" if self.proc and self.proc.poll() is None else "not running"
        return (f"agent {self.name} ({alive}): {status.stdout.strip() or status.stderr}\n"
                f"log:\n{tail(self.log)}")

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "sync_agent", *args, "--data-dir", str(self.data_dir)]


# -- the portal's database ------------------------------------------------------------------


@contextlib.contextmanager
def portal_session(url: str) -> Iterator[Session]:
    engine = make_engine(url)
    try:
        with set_scope(Session(engine), Scope.everything("chaos")) as session:
            yield session
    finally:
        engine.dispose()


def create_dealers(url: str, count: int, prefix: str = "CH") -> list[str]:
    with portal_session(url) as session:
        region = Region(code=f"{prefix}R", name_zh="混沌区", name_en="Chaos region")
        session.add(region)
        session.flush()
        codes = [f"{prefix}{n:03d}" for n in range(1, count + 1)]
        session.add_all(Dealer(code=code, name_zh=f"{code}经销商", name_en=f"Dealer {code}",
                               region_id=region.id, city_zh="上海", city_en="Shanghai")
                        for code in codes)
        session.commit()
    return codes


def issue_codes(url: str, dealer_codes: list[str]) -> list[str]:
    """One enrolment code per entry of *dealer_codes*, through the portal's service."""
    with portal_session(url) as session:
        codes = []
        for dealer_code in dealer_codes:
            dealer = agent_service.dealer_by_code(session=session, code=dealer_code)
            issued = agent_service.issue_enrollment(session=session, dealer=dealer,
                                                    actor="chaos")
            codes.append(issued.code)
        session.commit()
    return codes


def portal_holdings(url: str) -> tuple[dict[str, dict[str, int]], Counter, set[tuple]]:
    """Per agent id its {record_id: version}; how often each record_id is held; receipts."""
    held: dict[str, dict[str, int]] = {}
    times: Counter = Counter()
    with portal_session(url) as session:
        for table in TABLES.values():
            for record_id, version, agent_id in session.execute(
                    select(table.record_id, table.version, table.agent_id)):
                held.setdefault(str(agent_id), {})[str(record_id)] = version
                times[str(record_id)] += 1
        receipts = {(str(a), str(r), v) for a, r, v in session.execute(
            select(SyncReceipt.agent_id, SyncReceipt.record_id, SyncReceipt.version))}
    return held, times, receipts


@contextlib.contextmanager
def fresh_database(workdir: Path, admin_url: str | None, name: str) -> Iterator[str]:
    """A fresh SQLite file, or a new PostgreSQL database (dropped afterwards) on *admin_url*."""
    if admin_url is None:
        yield f"sqlite:///{workdir / 'portal.db'}"
        return
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


# -- the run ----------------------------------------------------------------------------------


class Scenario:
    """Set up, run the chaos, drain and check; :meth:`run` returns the figures."""

    def __init__(self, config: Config, workdir: Path, database_url: str,
                 say: Callable[[str], None] = lambda _line: None) -> None:
        self.config, self.workdir, self.url, self._say = config, workdir, database_url, say
        self._started = time.monotonic()
        self.rng = random.Random(config.seed)
        self.figures = Figures(config)
        self.portal = Portal(workdir, database_url, config.workers)
        self.agents = [Agent(f"agent{n:02d}", workdir, config.interval)
                       for n in range(config.agents)]
        self.proxy: FaultProxy | None = None
        self.writer: subprocess.Popen | None = None
        self.ledger, self.stop_file = workdir / "ledger.jsonl", workdir / "writer.stop"

    def say(self, line: str) -> None:
        self._say(f"[{time.monotonic() - self._started:6.1f} s] {line}")

    def run(self) -> Figures:
        started = self._started = time.monotonic()
        try:
            self._set_up()
            self._chaos()
            self._drain()
            check(self)
            self.say("checked the stores, the ledger and the portal; verify run for every agent")
        finally:
            self._tear_down()
            self.say("stopped the agents, the portal and the proxy")
            self.figures.wall_seconds = time.monotonic() - started
            if self.proxy is not None:
                self.figures.proxy = self.proxy.stats()
        return self.figures

    def _set_up(self) -> None:
        config = self.config
        self.portal.migrate()
        dealers = create_dealers(self.url, config.dealers)
        self.say("database migrated with `dealer-portal db upgrade`; dealers created")
        self.portal.start()
        self.say("portal serving (gunicorn)")
        budget = config.chaos_seconds + config.drain_timeout + 300
        self.proxy = FaultProxy(self.portal.port, seed=config.seed, max_seconds=budget).start()
        owners = [dealers[n % len(dealers)] for n in range(config.agents)]
        for agent, code in zip(self.agents, issue_codes(self.url, owners), strict=True):
            self.proxy.listen(agent.name)
            with contextlib.redirect_stdout(None):
                status = agent_cli(["enroll", "--portal", self.proxy.url(agent.name), "--code",
                                    code, "--data-dir", str(agent.data_dir), "--name", agent.name])
            if status:
                raise ScenarioFailed(f"enrolling {agent.name} failed ({status})")
        for agent in self.agents:
            agent.start()
        with (self.workdir / "writer.log").open("w") as log:
            self.writer = subprocess.Popen(
                [sys.executable, "-m", "tests.chaos.writer", "--ledger", str(self.ledger),
                 "--stop-file", str(self.stop_file), "--rate", str(config.rate), "--seed",
                 str(config.seed), *(str(a.data_dir) for a in self.agents)],
                cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True)
        self._wait_synced(60.0)
        self.say(f"{config.agents} agents of {config.dealers} dealers enrolled and synced once; "
                 f"portal on port {self.portal.port}")

    def _wait_synced(self, timeout: float) -> None:
        """Wait (bounded) until every agent process has synced once."""
        deadline = time.monotonic() + timeout
        waiting = list(self.agents)
        while waiting and time.monotonic() < deadline:
            waiting = [a for a in waiting if not a.query(
                "SELECT 1 FROM meta WHERE key = 'last_success' AND value IS NOT NULL")]
            time.sleep(0.2)
        if waiting:
            raise ScenarioFailed(f"{len(waiting)} agents did not sync within {timeout:.0f} s of "
                                 "starting:\n" + "\n".join(a.describe() for a in waiting))

    def _chaos(self) -> None:
        config = self.config
        self.proxy.set_rates(FaultRates.chaos(config.fault_level))
        started = time.monotonic()
        events = self._plan()
        for at, event in events:
            time.sleep(max(0.0, started + at - time.monotonic()))
            event()
            self._check_writer()
        time.sleep(max(0.0, started + config.chaos_seconds - time.monotonic()))
        self.stop_file.touch()
        try:
            out, _ = self.writer.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            raise ScenarioFailed("the writer did not stop within 120 s") from None
        if self.writer.returncode:
            raise ScenarioFailed(f"the writer failed:\n{tail(self.workdir / 'writer.log')}")
        self.figures.chaos_seconds = time.monotonic() - started

    def _plan(self) -> list[tuple[float, Callable[[], None]]]:
        """Agent kills and portal restarts spread over the chaos phase."""
        config = self.config
        events: list[Callable[[], None]] = [self._kill_agent] * config.kills
        for n in range(config.portal_restarts):
            events.insert((n + 1) * len(events) // (config.portal_restarts + 1) + n,
                          self._restart_portal)
        step = config.chaos_seconds * 0.8 / max(1, len(events))
        return [(step * (n + 0.5), event) for n, event in enumerate(events)]

    def _kill_agent(self) -> None:
        """SIGKILL an agent while the portal's answer to its push of records is held back (the
        portal applied the batch, the agent has not acknowledged it), then restart it.

        Agents not killed yet are preferred; the first whose push comes by is the victim.
        """
        fresh = [a for a in self.agents if a.name not in self.figures.killed_agents] or self.agents
        holds = {a.name: self.proxy.hold_next(a.name, _push_with_records) for a in fresh}
        deadline = time.monotonic() + HOLD_WAIT
        while not (reached := [n for n, h in holds.items() if h.reached.is_set()]) \
                and time.monotonic() < deadline:
            time.sleep(0.01)
        victim = next(a for a in fresh if a.name == (reached or [fresh[0].name])[0])
        victim.kill()
        for name, hold in holds.items():
            self.proxy.cancel_hold(name)
            hold.release()
        self.figures.killed_agents.append(victim.name)
        if reached:
            self.figures.kills_mid_push += 1
            self.figures.killed_batches.append(len(json.loads(holds[victim.name].body)["records"]))
            self.say(f"killed {victim.name} mid-push of {self.figures.killed_batches[-1]} records")
        else:
            self.figures.kills_other += 1
            self.say(f"killed {victim.name} (no push of records in flight)")
        time.sleep(self.rng.uniform(0.2, 1.5))
        victim.start()

    def _restart_portal(self) -> None:
        """SIGKILL the portal while it works on a request (if one comes within a few seconds)
        and start it again on the same database."""
        deadline = time.monotonic() + HOLD_WAIT
        while not (busy := self.proxy.in_flight()) and time.monotonic() < deadline:
            time.sleep(0.005)
        self.portal.kill()
        self.figures.portal_kills_mid_request += bool(busy)
        self.say(f"killed the portal (SIGKILL to gunicorn and its workers) with {busy} "
                 "requests in flight")
        time.sleep(self.rng.uniform(1.0, 3.0))
        self.portal.start()
        self.figures.portal_restarts += 1
        self.say("portal started again on the same database")

    def _check_writer(self) -> None:
        if self.writer.poll() is not None:
            raise ScenarioFailed(f"the writer stopped early:\n{tail(self.workdir / 'writer.log')}")

    def _drain(self) -> None:
        """Faults off; wait (bounded) until every outbox is empty."""
        self.proxy.calm()
        calm = time.monotonic()
        deadline = calm + self.config.drain_timeout
        while time.monotonic() < deadline:
            dead = [a.name for a in self.agents if a.proc.poll() is not None]
            if dead:
                raise ScenarioFailed(f"agents exited during the drain: {dead}\n"
                                     + "\n".join(a.describe() for a in self.agents
                                                 if a.name in dead))
            if all(a.pending() == 0 for a in self.agents):
                self.figures.drain_seconds = time.monotonic() - calm
                self.say(f"drained {self.figures.drain_seconds:.1f} s after the faults stopped")
                return
            time.sleep(0.25)
        stuck = [a for a in self.agents if a.pending()]
        raise ScenarioFailed(
            f"{len(stuck)} agents still have pending records {self.config.drain_timeout:.0f} s "
            "after the faults stopped:\n" + "\n".join(a.describe() for a in stuck))

    def _tear_down(self) -> None:
        if self.writer is not None and self.writer.poll() is None:
            self.writer.kill()
            self.writer.wait(timeout=30)
        running = [a for a in self.agents if a.proc is not None]
        for agent in running:
            agent.terminate()  # all at once; each stops once its sync cycle is over
        for agent in running:
            if agent.proc is not None:
                status = agent.stop()
                if status != 0 and self.figures.drain_seconds is not None:
                    self.figures.agent_exit_failures.append(
                        f"{agent.name} exited {status}:\n{tail(agent.log)}")
        self.portal.stop()
        if self.proxy is not None:
            self.proxy.stop()


# -- the checks -------------------------------------------------------------------------------


def check(scenario: Scenario) -> None:
    """Compare stores, ledger and the portal's database; the findings go to the figures."""
    figures = scenario.figures
    held, times, receipts = portal_holdings(scenario.url)
    ledger = _read_ledger(scenario.ledger)
    figures.saved_versions = sum(len(v) for v in ledger.values())
    for agent in scenario.agents:
        agent_id = agent.query("SELECT value FROM meta WHERE key = 'agent_id'")[0][0]
        local = dict(agent.query("SELECT record_id, version FROM records"))
        figures.saved_records += len(local)
        found = compare(local, held.pop(agent_id, {}), ledger.get(agent.name, set()),
                        {(rid, v) for a, rid, v in receipts if a == agent_id})
        figures.missing += found["missing"]
        figures.extra += found["extra"]
        figures.ledger_mismatches += found["ledger"]
        figures.receipt_mismatches += found["receipts"]
        figures.pending += agent.pending()
        figures.quarantined += agent.query("SELECT count(*) FROM quarantine")[0][0]
    figures.extra += sum(len(v) for v in held.values())  # records of no agent of this run
    figures.duplicated = sum(1 for n in times.values() if n > 1)
    figures.verify_failures = _verify_all(scenario.agents)


def compare(local: dict[str, int], at_portal: dict[str, int], saved: set[tuple[str, int]],
            receipts: set[tuple[str, int]]) -> Counter:
    """What is wrong between one agent's store (*local*, record_id -> version), the portal's
    records of that agent, the ledger of its saved versions and the portal's receipts."""
    return Counter(
        missing=sum(1 for rid, v in local.items() if at_portal.get(rid) != v),
        extra=len(at_portal.keys() - local.keys()),
        ledger=sum(1 for rid, v in saved if local.get(rid, 0) < v),
        receipts=len(receipts ^ saved),
    )


def _push_with_records(path: str, body: bytes) -> bool:
    return path.endswith("/sync/push") and b'"records":[{' in body.replace(b" ", b"")


def _read_ledger(path: Path) -> dict[str, set[tuple[str, int]]]:
    ledger: dict[str, set[tuple[str, int]]] = {}
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        ledger.setdefault(entry["agent"], set()).add((entry["record_id"], entry["version"]))
    return ledger


def _verify_all(agents: list[Agent]) -> list[str]:
    """Run ``dealer-agent verify`` for every agent at once; the failures with their output."""
    procs = [(a, subprocess.Popen(a.command("verify"), stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, cwd=REPO))
             for a in agents]
    failures = []
    for agent, proc in procs:
        out, _ = proc.communicate(timeout=120)
        if proc.returncode != 0:
            failures.append(f"{agent.name} exited {proc.returncode}: {out.strip()}")
    return failures
