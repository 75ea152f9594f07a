"""Soak: the chaos scenario of tests/chaos/test_chaos.py, longer and larger, with its figures.

    python -m tests.chaos.soak --agents 20 --dealers 4 --minutes 10 --seed 1
    python -m tests.chaos.soak --minutes 5 --database-url postgresql+psycopg://u:p@127.0.0.1/postgres

Prints records saved, faults injected by type, duplicates the portal answered, losses, agents
killed, portal restarts and the time to drain after the faults stop; exits 1 if anything saved
at an agent is not at the portal exactly once (or an outbox is stuck, or verify fails).
It is test tooling, not a product command: it kills processes and needs the fault proxy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from tests.chaos.scenario import Config, Scenario, ScenarioFailed, fresh_database


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos.soak",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--dealers", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the chaos phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=100.0,
                        help="records saved per second, all agents together")
    parser.add_argument("--fault-level", type=float, default=1.0,
                        help="1: about 30%% of requests meet a fault; at most 3")
    parser.add_argument("--kills", type=int, help="agents SIGKILLed mid-push [6 a minute]")
    parser.add_argument("--portal-restarts", type=int, help="portal SIGKILLs [1 a minute]")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--database-url", metavar="ADMIN_URL",
                        help="a PostgreSQL server to create a fresh database on "
                             "(default: a fresh SQLite file)")
    parser.add_argument("--workdir", type=Path, help="keep data and logs here [a temp dir]")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser


def config_of(args: argparse.Namespace) -> Config:
    minutes = args.minutes
    return Config(
        agents=args.agents, dealers=args.dealers, chaos_seconds=minutes * 60,
        kills=args.kills if args.kills is not None else max(3, round(minutes * 6)),
        portal_restarts=(args.portal_restarts if args.portal_restarts is not None
                         else max(1, round(minutes))),
        rate=args.rate, fault_level=args.fault_level, seed=args.seed, workers=args.workers)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_of(args)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        workdir = args.workdir or Path(tmp)
        if workdir.exists() and any(workdir.iterdir()):
            print(f"soak: {workdir} is not empty; give a new directory", file=sys.stderr)
            return 2
        workdir.mkdir(parents=True, exist_ok=True)
        print(f"soak: {config.agents} agents of {config.dealers} dealers, "
              f"{args.minutes:g} min of faults, data and logs in {workdir}", flush=True)
        try:
            with fresh_database(workdir, args.database_url, f"dp_soak_{os.getpid()}") as url:
                figures = Scenario(config, workdir, url, say=lambda s: print(s, flush=True)).run()
        except ScenarioFailed as error:
            print(f"soak: FAILED: {error}", file=sys.stderr)
            return 1
        print(figures.report())
    if args.json:
        args.json.write_text(json.dumps(figures.as_dict(), indent=1))
    return 1 if figures.problems() else 0


if __name__ == "__main__":
    raise SystemExit(main())
