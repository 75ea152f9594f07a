"""The chaos scenario's end-of-run comparison finds each kind of difference."""

from __future__ import annotations

import pytest

from tests.chaos.scenario import Config, Figures, compare

LOCAL = {"a": 2, "b": 1}
SAVED = {("a", 1), ("a", 2), ("b", 1)}


def test_an_exact_match_finds_nothing():
    assert sum(compare(LOCAL, dict(LOCAL), SAVED, set(SAVED)).values()) == 0


@pytest.mark.parametrize(("at_portal", "saved", "receipts", "expected"), [
    ({"a": 2}, SAVED, SAVED, {"missing": 1}),
    ({"a": 1, "b": 1}, SAVED, SAVED, {"missing": 1}),
    ({**LOCAL, "c": 1}, SAVED, SAVED, {"extra": 1}),
    (LOCAL, SAVED | {("b", 2)}, SAVED | {("b", 2)}, {"ledger": 1}),
    (LOCAL, SAVED, SAVED - {("a", 1)}, {"receipts": 1}),
    (LOCAL, SAVED, SAVED | {("b", 7)}, {"receipts": 1}),
])
def test_each_difference_is_counted(at_portal, saved, receipts, expected):
    found = compare(LOCAL, at_portal, saved, receipts)
    assert {k: v for k, v in found.items() if v} == expected


def test_a_run_with_a_loss_or_no_drain_fails():
    figures = Figures(Config(), missing=1)
    assert figures.problems() == ["1 missing at the portal", "the agents did not drain"]
    assert "RESULT: FAIL" in figures.report()
