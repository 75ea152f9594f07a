"""`dealer-agent` commands that work on the local store alone (no portal needed)."""

from __future__ import annotations

import json

import pytest

from common.protocol import ItemResult, Outcome
from sync_agent.cli import compare_summaries, main
from tests.unit.agent_fakes import enrolled_store, lead


@pytest.fixture
def data_dir(tmp_path):
    enrolled_store(tmp_path).close()
    return tmp_path


def run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def reject_one(data_dir) -> int:
    with enrolled_store(data_dir) as store:
        store.save_record("lead", lead())
        [entry] = store.outbox()
        store.apply_results([ItemResult(seq=entry.seq, record_id=entry.record_id,
                                        outcome=Outcome.rejected, code="bad", message="Nope.")])
        return store.quarantine_list()[0].id


def test_status_json_reports_the_queue(data_dir, capsys):
    with enrolled_store(data_dir) as store:
        store.save_record("lead", lead())
    status, out, _ = run(capsys, "status", "--json", "--data-dir", str(data_dir))
    report = json.loads(out)
    assert status == 0 and report["pending_count"] == 1 and report["epoch"] == 1
    assert {"oldest_pending_age_s", "last_success", "last_error", "quarantine_count",
            "agent_id", "portal"} <= set(report)


def test_data_dir_from_environment(data_dir, capsys, monkeypatch):
    monkeypatch.setenv("DEALER_AGENT_DATA", str(data_dir))
    assert "dealer SH001" in run(capsys, "status")[1]


def test_unenrolled_commands_say_how_to_enrol(tmp_path, capsys):
    status, _, err = run(capsys, "sync", "--data-dir", str(tmp_path))
    assert status == 1 and "dealer-agent enroll --portal URL --code CODE" in err


def test_import_reports_rows_and_quarantines_bad_ones(data_dir, tmp_path, capsys):
    path = tmp_path / "leads.jsonl"
    path.write_text(json.dumps({"kind": "lead", **lead()}) + "\n" +
                    json.dumps({"kind": "lead", **lead(phone="123")}) + "\n", encoding="utf-8")
    status, out, _ = run(capsys, "import", str(path), "--data-dir", str(data_dir))
    assert status == 0 and "line 2: quarantined as #1: phone:" in out
    assert "1 created" in out and "1 quarantined" in out


def test_quarantine_list_replay_and_discard(data_dir, capsys):
    entry = reject_one(data_dir)
    assert f"#{entry}  lead" in run(capsys, "quarantine", "list", "--data-dir", str(data_dir))[1]
    assert run(capsys, "replay", str(entry), "--data-dir", str(data_dir))[0] == 0
    assert "empty" in run(capsys, "quarantine", "--data-dir", str(data_dir))[1]
    status, _, err = run(capsys, "quarantine", "discard", str(entry), "--data-dir", str(data_dir))
    assert status == 1 and "No quarantined record" in err


def test_quarantine_fix_sets_dotted_fields(data_dir, capsys):
    entry = reject_one(data_dir)
    status, out, _ = run(capsys, "quarantine", "fix", str(entry), "--set", "salesperson=李娜",
                         "--data-dir", str(data_dir))
    assert status == 0 and "version 2" in out


@pytest.mark.parametrize("remote, differing", [
    ({"lead": {"count": 1, "checksum": "x"}, "sale": {"count": 0, "checksum": "e"}}, []),
    ({"lead": {"count": 1, "checksum": "y"}}, ["lead"]),
    ({}, ["lead"]),
    ({"lead": {"count": 1, "checksum": "x"}, "survey": {"count": 2, "checksum": "z"}},
     ["survey"]),
])
def test_compare_summaries(remote, differing):
    assert compare_summaries({"lead": {"count": 1, "checksum": "x"}}, remote) == differing


def test_import_of_missing_file_is_a_usage_error(data_dir, capsys):
    status, _, err = run(capsys, "import", str(data_dir / "nope.csv"), "--data-dir",
                         str(data_dir))
    assert status == 2 and "No such file" in err
