"""The benchmark suite: every figure of DESIGN §10 on SQLite and PostgreSQL, in one command.

    python -m tests.benchmark.run --backend both --dealers 1000 --records 5000000 --seed 1

It builds (or takes from its cache) the deterministic dataset, serves it with the portal's
production server (`dealer-portal serve`, gunicorn) on loopback, and measures:

- page latency: 20 closed-loop clients (dealer managers and HQ), p50/p95/p99 per page;
- ingest: several agents pushing batches of 500 over HTTP (full protocol), records/s, against
  a bare bulk insert of the same rows into the same database, and the ratio of the two;
- catch-up: a real agent holding 10,000 records reconnects; seconds until drained;
- save-to-visible: saves in a running agent until the portal has each, p50/p95;
- the headless agent's idle RSS and CPU, from /proc.

It prints a table with each target beside each result and the machine it ran on; --json
writes the same figures to a file. See tests/benchmark/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from portal.db import make_engine
from tests.benchmark import agent, dataset, ingest, latency, machine
from tests.benchmark.server import Portal

DEFAULT_PG = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://dealer_test:dealer_test@127.0.0.1:5432/postgres")


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    target: str
    unit: str
    ok: object  # value -> bool


TARGETS = [
    Target("ingest_rate", "ingest over HTTP, batches of 500, full protocol", "≥ 25,000",
           "records/s", lambda v: v >= 25_000),
    Target("bare_rate", "bare bulk insert of the same rows (same run)", "—", "records/s",
           lambda v: True),
    Target("ingest_ratio", "ingest ÷ bare insert", "≥ 50 %", "%", lambda v: v >= 50),
    Target("catchup_s", "catch-up of ~10,000 records after reconnecting", "≤ 2", "s",
           lambda v: v <= 2),
    Target("save_visible_p95_s", "save at the agent → visible in the portal, p95", "≤ 1", "s",
           lambda v: v <= 1),
    Target("dealer_p95_ms", "dealer dashboard/order/scorecard pages p95 (worst)", "≤ 100",
           "ms", lambda v: v <= 100),
    Target("hq_p95_ms", "HQ rollup/benchmark/scorecard pages p95 (worst)", "≤ 300", "ms",
           lambda v: v <= 300),
    Target("agent_rss_mb", "agent idle RSS (headless)", "≤ 80", "MB", lambda v: v <= 80),
    Target("agent_cpu_pct", "agent idle CPU", "~0", "%", lambda v: v < 1),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.benchmark.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--dealers", type=int, default=1000)
    p.add_argument("--records", type=int, default=5_000_000, help="synced records in the dataset")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today(),
                   help="last day of the data (part of the cache key) [today]")
    p.add_argument("--orders-per-dealer", type=int, default=10)
    p.add_argument("--ingest-records", type=int, default=200_000)
    p.add_argument("--agents", type=int, default=4, help="concurrent pushing agents")
    p.add_argument("--ingest-rounds", type=int, default=3,
                   help="ingest rounds, each with new dealers; the median round is reported")
    p.add_argument("--catchup-records", type=int, default=10_000)
    p.add_argument("--clients", type=int, default=20, help="closed-loop page clients")
    p.add_argument("--latency-seconds", type=float, default=60.0)
    p.add_argument("--saves", type=int, default=50, help="saves timed to visible")
    p.add_argument("--idle-seconds", type=float, default=30.0)
    p.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    p.add_argument("--threads", type=int, help="threads per worker [serve's default]")
    p.add_argument("--pg-url", default=DEFAULT_PG,
                   help="PostgreSQL URL allowed to create databases [$BENCH_DATABASE_URL, "
                        "$TEST_DATABASE_URL or the local test server]")
    p.add_argument("--cache-dir", type=Path, default=dataset.DEFAULT_CACHE)
    p.add_argument("--work-dir", type=Path, help="scratch directory [a new temporary one]")
    p.add_argument("--json", type=Path, help="also write the results here")
    return p.parse_args(argv)


def echo(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_backend(backend: str, args: argparse.Namespace, work: Path) -> dict:
    """Every measurement on one backend; returns the figures and their details."""
    spec = dataset.Spec(args.dealers, args.records, args.seed, args.today,
                        args.orders_per_dealer)
    began = time.perf_counter()
    data = dataset.prepare(backend, spec, pg_admin_url=args.pg_url, cache_dir=args.cache_dir,
                           work_dir=work / backend, echo=echo)
    echo(f"[{backend}] dataset of {data.records:,} records ready in "
         f"{time.perf_counter() - began:.0f} s")
    engine = make_engine(data.url)
    (work / backend).mkdir(parents=True, exist_ok=True)
    try:
        with Portal(data.url, work / backend, workers=args.workers, threads=args.threads,
                    log=work / f"{backend}-portal.log") as portal:
            return {"dataset": {"records": data.records, "dealers": args.dealers,
                                "built_s": data.seconds_built},
                    **_measure(backend, engine, portal, args, work)}
    finally:
        engine.dispose()
        data.cleanup()


def _measure(backend: str, engine, portal: Portal, args: argparse.Namespace, work: Path) -> dict:
    url = portal.url
    echo(f"[{backend}] page latency: {args.clients} clients for {args.latency_seconds:g} s")
    pages = latency.measure(url, latency.clients(engine, args.clients),
                            seconds=args.latency_seconds, server_cpu=portal.cpu_seconds)
    rounds = []
    for n in range(1, args.ingest_rounds + 1):
        echo(f"[{backend}] ingest, round {n} of {args.ingest_rounds}: {args.agents} agents, "
             f"{args.ingest_records:,} records")
        rounds.append(ingest.measure(
            engine, url, total=args.ingest_records, agents=args.agents,
            seed=args.seed + 100 * n, today=args.today, server_cpu=portal.cpu_seconds,
            database_cpu=(machine.postgres_cpu_seconds if backend == "postgresql"
                          else lambda: 0.0), label=f"{n}"))
    echo(f"[{backend}] catch-up of {args.catchup_records:,} records")
    caught = agent.catch_up(engine, url, work / f"{backend}-catchup", seed=args.seed + 2,
                            records=args.catchup_records, today=args.today)
    echo(f"[{backend}] save-to-visible: {args.saves} saves; then the idle agent")
    visible = agent.save_to_visible(engine, url, work / f"{backend}-agent", saves=args.saves,
                                    seed=args.seed + 3, today=args.today)
    idle = agent.idle_footprint(work / f"{backend}-agent", settle=3.0, window=args.idle_seconds)
    return figures(pages, rounds, caught, visible, idle)


def figures(pages: latency.Latency, rounds: list[ingest.IngestResult], caught: agent.CatchUp,
            visible: agent.SaveToVisible, idle: agent.Idle) -> dict:
    """The figures of one backend; ingest is its median round by rate (rounds of the same code
    measured up to a fifth apart on a shared machine), every round's rates in the details."""
    pushed = sorted(rounds, key=lambda r: r.rate)[(len(rounds) - 1) // 2]
    per_page = {name: {f"p{q}_ms": 1000 * pages.percentile(name, q) for q in (50, 95, 99)}
                | {"requests": len(pages.samples[name])} for name in sorted(pages.samples)}
    dealer = [v["p95_ms"] for k, v in per_page.items() if k in latency.DEALER_TARGET_PAGES]
    hq = [v["p95_ms"] for k, v in per_page.items() if k in latency.HQ_TARGET_PAGES]
    return {
        "ingest_rate": pushed.rate, "bare_rate": pushed.bare_rate,
        "ingest_ratio": 100 * pushed.ratio, "catchup_s": caught.seconds,
        "save_visible_p95_s": latency.percentile(visible.latencies, 95),
        "dealer_p95_ms": max(dealer, default=float("nan")),
        "hq_p95_ms": max(hq, default=float("nan")),
        "agent_rss_mb": idle.rss_mb, "agent_cpu_pct": idle.cpu_percent,
        "details": {
            "pages": per_page, "page_errors": pages.errors[:20],
            "page_requests_per_s": pages.requests / pages.seconds if pages.seconds else 0,
            "page_server_cpu_ms": 1000 * pages.server_cpu_s / max(1, pages.requests),
            "ingest": {"records": pushed.records, "seconds": pushed.seconds,
                       "agents": pushed.agents, "outcomes": dict(pushed.outcomes),
                       "stored": pushed.stored, "bare_records": pushed.bare_records,
                       "bare_seconds": pushed.bare_seconds, "errors": pushed.errors[:20],
                       "server_cpu_us": 1e6 * pushed.server_cpu_s / max(1, pushed.records),
                       "client_cpu_us": 1e6 * pushed.client_cpu_s / max(1, pushed.records),
                       "database_cpu_us": 1e6 * pushed.database_cpu_s / max(1, pushed.records),
                       "rounds": [{"rate": r.rate, "bare_rate": r.bare_rate,
                                   "ratio": 100 * r.ratio} for r in rounds]},
            "catch_up": vars(caught),
            "save_to_visible": {"saves": len(visible.latencies), "missing": visible.missing,
                                "p50_s": latency.percentile(visible.latencies, 50),
                                "p99_s": latency.percentile(visible.latencies, 99)},
            "idle": vars(idle),
        },
    }


def _cell(target: Target, value: float) -> str:
    if value != value:  # NaN: nothing measured
        return "n/a"
    shown = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
    return f"{shown} {'✓' if target.ok(value) else '✗'}"


def format_report(results: dict[str, dict], host: dict[str, str]) -> str:
    backends = list(results)
    head = ["figure (DESIGN §10)", "unit", "target", *backends]
    rows = [[t.label, t.unit, t.target, *(_cell(t, results[b][t.key]) for b in backends)]
            for t in TARGETS]
    for name in sorted({p for b in backends for p in results[b]["details"]["pages"]}):
        extra = name not in (*latency.DEALER_TARGET_PAGES, *latency.HQ_TARGET_PAGES)
        rows.append([f"  page {name} p50 / p95 / p99{' (extra)' if extra else ''}", "ms", "",
                     *(_page_cell(results[b]["details"]["pages"].get(name)) for b in backends)])
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))
             for r in [head, ["-" * w for w in widths], *rows]]
    for b in backends:
        lines += _details(b, results[b])
    lines += [f"{k}: {v}" for k, v in host.items()]
    return "\n".join(lines)


def _details(backend: str, figures: dict) -> list[str]:
    d, x = figures["dataset"], figures["details"]
    built = "from cache" if d["built_s"] is None else f"built in {d['built_s']:.0f} s"
    i, c, v = x["ingest"], x["catch_up"], x["save_to_visible"]
    return [
        f"{backend}: dataset {d['records']:,} records, {d['dealers']:,} dealers ({built}); "
        f"pages {x['page_requests_per_s']:.0f} requests/s in all, {len(x['page_errors'])} errors, "
        f"server CPU {x['page_server_cpu_ms']:.1f} ms/request",
        f"{backend}: ingest {i['records']:,} records by {i['agents']} agents in "
        f"{i['seconds']:.1f} s, outcomes {i['outcomes']}, {i['stored']:,} stored; bare insert "
        f"{i['bare_records']:,} in {i['bare_seconds']:.1f} s; CPU per record: server "
        f"{i['server_cpu_us']:.0f} µs, pushing client {i['client_cpu_us']:.0f} µs"
        + (f", PostgreSQL {i['database_cpu_us']:.0f} µs" if i.get("database_cpu_us") else ""),
        f"{backend}: ingest rounds (records/s, bare, ratio): " + "; ".join(
            f"{r['rate']:,.0f}, {r['bare_rate']:,.0f}, {r['ratio']:.0f} %" for r in i["rounds"])
        + " (the median round is in the table)",
        f"{backend}: catch-up {c['records']:,} records in {c['seconds']:.2f} s; save-to-visible "
        f"{v['saves']} saves, p50 {v['p50_s']:.3f} s, {v['missing']} missing",
    ]


def _page_cell(page: dict | None) -> str:
    if not page:
        return "n/a"
    return f"{page['p50_ms']:.0f} / {page['p95_ms']:.0f} / {page['p99_ms']:.0f}"


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    host = machine.describe(args.pg_url if "postgresql" in backends else None)
    with tempfile.TemporaryDirectory(prefix="dealer-bench-") as scratch:
        work = args.work_dir or Path(scratch)
        results = {b: run_backend(b, args, work) for b in backends}
    host["load average at the end"] = machine.load_average()
    print(format_report(results, host), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"results": results, "machine": host}, indent=2,
                                        default=str))
    return results


if __name__ == "__main__":
    main()
