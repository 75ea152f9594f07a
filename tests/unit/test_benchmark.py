"""The index, percentile, benchmark-group, gap and histogram logic (pure functions)."""

from __future__ import annotations

import pytest

from portal import charts
from portal.services import benchmark, metrics


@pytest.mark.parametrize(("values", "expected"), [
    ({"a": 10, "b": 20, "c": 30}, {"a": 0.0, "b": 50.0, "c": 100.0}),
    ({"a": 10, "b": 10, "c": 30}, {"a": 25.0, "b": 25.0, "c": 100.0}),  # ties share
    ({"a": 50, "b": None}, {"a": 100.0, "b": None}),  # alone; no data
    ({"a": 5, "b": 5}, {"a": 50.0, "b": 50.0}),
    ({}, {}),
])
def test_percentile_ranks(values, expected):
    assert benchmark.percentile_ranks(values) == expected


@pytest.mark.parametrize(("values", "group"), [
    ({i: float(i) for i in range(1, 21)}, {20, 19}),  # 10 % of 20
    ({i: float(i) for i in range(1, 6)}, {5}),  # at least one
    ({1: 80.0, 2: 80.0, 3: 10.0}, {1, 2}),  # ties at the cut-off are in
    ({1: None, 2: None}, set()),
])
def test_benchmark_group_is_top_decile(values, group):
    assert benchmark.benchmark_group(values) == group


def test_index_weights_sum_to_100_and_full_marks_score_100():
    full = {"sales_due": 4, "sales_contacted": 4, "leads_due": 2, "leads_24h": 2,
            "lifecycle_customers": 1, "lifecycle_covered": 1, "leads_3m": 1, "won_3m": 1,
            "records_checked": 3, "records_complete": 3, "complaints_due": 1,
            "complaints_24h": 1, "surveys": 2, "surveys_loyal": 2, "sync_days": 3,
            "month_days": 3}
    assert sum(m.weight for m in metrics.METRICS) == 100
    assert metrics.usage_index(full) == 100.0


@pytest.mark.parametrize(("totals", "expected"), [
    ({"sales_due": 4, "sales_contacted": 1, "lifecycle_customers": 2,
      "lifecycle_covered": 2, "surveys": 2, "surveys_loyal": 1, "sync_days": 1,
      "month_days": 2}, 54.5),  # (20×¼ + 15 + 10×½ + 10×½) ÷ 55
    ({"sales_due": 2, "sales_contacted": 2}, None),  # weight 20 < 50: no index
    ({}, None),  # a dealer without data
])
def test_index_uses_only_metrics_with_data(totals, expected):
    assert metrics.usage_index(totals) == expected


def test_gap_is_points_behind_the_group():
    gaps = {g.key: g for g in benchmark.gaps({"surveys": 4, "surveys_loyal": 1},
                                            {"surveys": 10, "surveys_loyal": 9})}
    assert (gaps["loyalty"].value, gaps["loyalty"].benchmark, gaps["loyalty"].gap) == (
        0.25, 0.9, 65.0)
    assert gaps["contact30"].gap is None


def test_histogram_bins_and_the_top_value():
    assert benchmark.histogram([0, 9.9, 10, 55, 100, None]) == [2, 1, 0, 0, 0, 1, 0, 0, 0, 1]


def test_charts_escape_labels():
    svg = charts.line_chart("<t>", ["<m>"], [("<s>", [1.0])])
    assert "<t>" not in svg and "&lt;s&gt;" in svg and svg.startswith("<svg")
