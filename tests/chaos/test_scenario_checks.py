"""The chaos scenario's end-of-run comparison finds each kind of difference."""

from __future__ import annotations

import pytest

from tests.chaos import soak
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


@pytest.mark.parametrize(("argv", "expected"), [
    (["--minutes", "10"], (20, 60, 10, 600)),
    (["--minutes", "0.2", "--agents", "4"], (4, 3, 1, 12)),
    (["--minutes", "2", "--kills", "5", "--portal-restarts", "0"], (20, 5, 0, 120)),
])
def test_soak_scales_kills_and_restarts_with_its_length(argv, expected):
    config = soak.config_of(soak.build_parser().parse_args(argv))
    assert (config.agents, config.kills, config.portal_restarts, config.chaos_seconds) == expected


def test_soak_refuses_a_used_work_directory(tmp_path, capsys):
    (tmp_path / "portal.db").touch()
    assert soak.main(["--workdir", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
