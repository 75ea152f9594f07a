"""The benchmark suite end to end at a small scale, so it cannot rot; its numbers are checked for
sanity (every record arrived, rates positive, percentiles ordered), never for speed."""

from __future__ import annotations

import json
import os

import pytest

from tests.benchmark import dataset, latency, run

SMALL = ["--dealers", "3", "--records", "3000", "--orders-per-dealer", "2",
         "--ingest-records", "2000", "--agents", "2", "--ingest-rounds", "2",
         "--catchup-records", "500",
         "--clients", "4", "--latency-seconds", "2", "--saves", "3", "--idle-seconds", "1",
         "--today", "2026-06-15"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def measured(request, tmp_path_factory):
    backend, base = request.param, tmp_path_factory.mktemp("bench")
    argv = [*SMALL, "--backend", backend, "--cache-dir", str(base / "cache"),
            "--work-dir", str(base / "work"), "--json", str(base / "figures.json")]
    if backend == "postgresql":
        if not os.environ.get("TEST_DATABASE_URL"):
            pytest.skip("TEST_DATABASE_URL is not set (the CI script sets it)")
        args = run.parse_args(argv)
        cached = "bench_" + dataset.Spec(args.dealers, args.records, args.seed, args.today,
                                         args.orders_per_dealer).key
        dataset._drop(args.pg_url, cached)  # built afresh, so the build is tested too
        request.addfinalizer(lambda: dataset._drop(args.pg_url, cached))
    results = run.main(argv)
    return backend, results[backend], json.loads((base / "figures.json").read_text())


def test_every_record_pushed_is_applied_and_stored(measured):
    _, figures, _ = measured
    ingest = figures["details"]["ingest"]
    assert ingest["errors"] == []
    assert ingest["outcomes"] == {"applied": ingest["records"]}
    assert ingest["stored"] == ingest["records"] == ingest["bare_records"] >= 2000


def test_rates_and_ratio_are_positive(measured):
    _, figures, _ = measured
    assert figures["ingest_rate"] > 0 and figures["bare_rate"] > 0
    assert figures["ingest_ratio"] == pytest.approx(
        100 * figures["ingest_rate"] / figures["bare_rate"])


def test_ingest_reports_its_median_round_and_every_round(measured):
    _, figures, _ = measured
    rounds = figures["details"]["ingest"]["rounds"]
    assert len(rounds) == 2 and all(r["rate"] > 0 and r["bare_rate"] > 0 for r in rounds)
    slower = min(rounds, key=lambda r: r["rate"])  # of two, the lower is the median reported
    assert (figures["ingest_rate"], figures["bare_rate"], figures["ingest_ratio"]) == (
        slower["rate"], slower["bare_rate"], slower["ratio"])


def test_catch_up_drains_the_outbox_into_the_portal(measured):
    catch_up = measured[1]["details"]["catch_up"]
    assert catch_up["pending_after"] == 0
    assert catch_up["stored"] == catch_up["records"] >= 500
    assert catch_up["seconds"] > 0


def test_every_page_is_measured_with_ordered_percentiles(measured):
    _, figures, _ = measured
    pages = figures["details"]["pages"]
    assert set(pages) == set(latency.DEALER_PAGES) | set(latency.HQ_PAGES)
    assert figures["details"]["page_errors"] == []
    for page in pages.values():
        assert page["requests"] > 0
        assert 0 < page["p50_ms"] <= page["p95_ms"] <= page["p99_ms"]


def test_every_save_becomes_visible_and_the_idle_agent_is_read(measured):
    _, figures, _ = measured
    visible = figures["details"]["save_to_visible"]
    assert (visible["saves"], visible["missing"]) == (3, 0)
    assert 0 < visible["p50_s"] <= figures["save_visible_p95_s"] <= visible["p99_s"]
    assert figures["agent_rss_mb"] > 0 and figures["agent_cpu_pct"] >= 0


def test_report_puts_each_target_beside_its_result_and_the_machine(measured):
    backend, figures, written = measured
    report = run.format_report({backend: figures}, written["machine"])
    for target in run.TARGETS:
        assert target.label in report and target.target in report
    assert "cores: " in report and "sqlite: 3." in report
    if backend == "postgresql":  # the server's settings the figures depend on, beside its version
        assert all(f"{name} " in written["machine"]["postgresql"]
                   for name in ("shared_buffers", "max_wal_size", "synchronous_commit"))
    assert written["results"][backend]["ingest_rate"] == figures["ingest_rate"]


def test_ingest_reports_where_the_cpu_went(measured):
    backend, figures, _ = measured
    ingest = figures["details"]["ingest"]
    assert ingest["server_cpu_us"] > 0 and ingest["client_cpu_us"] > 0
    # the database's own processes: PostgreSQL's on this machine; SQLite works in the server's
    assert (ingest["database_cpu_us"] > 0) == (backend == "postgresql")


@pytest.mark.parametrize(("values", "q", "expected"), [
    ([3, 1, 2], 50, 2), ([1, 2, 3, 4], 95, 4), (list(range(1, 101)), 95, 95), ([7], 99, 7)])
def test_percentile_is_nearest_rank(values, q, expected):
    assert latency.percentile(values, q) == expected
