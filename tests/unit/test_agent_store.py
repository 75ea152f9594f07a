"""The agent's local store: outbox in the save transaction, the ack state machine, quarantine."""

from __future__ import annotations

import json

import pytest

from common.protocol import ItemResult, Outcome
from sync_agent.records import RecordInvalid
from sync_agent.store import NotEnrolled, Store
from tests.unit.agent_fakes import enrolled_store, lead, sale


@pytest.fixture
def store(tmp_path):
    with enrolled_store(tmp_path) as store:
        yield store


def result(entry, outcome: Outcome, **extra) -> ItemResult:
    return ItemResult(seq=entry.seq, record_id=entry.record_id, outcome=outcome, **extra)


def test_save_writes_record_and_outbox_entry_together(store):
    saved = store.save_record("sale", sale())
    [entry] = store.outbox()
    assert (entry.seq, entry.record_id, entry.version) == (saved.seq, saved.record_id, 1)
    assert json.loads(entry.payload)["dealer_code"] == "SH001"
    assert store.get_record(saved.record_id).payload["vehicle"]["brand"] == "Buick"


def test_store_is_wal_with_full_synchronous(store):
    assert store._scalar("PRAGMA journal_mode") == "wal"
    assert store._scalar("PRAGMA synchronous") == 2  # FULL


def test_failed_save_leaves_neither_record_nor_outbox(store):
    with pytest.raises(RecordInvalid) as caught:
        store.save_record("sale", sale(customer={"name": "", "phone": "12", "postcode": "1"}))
    assert {p.field for p in caught.value.problems} >= {"customer.name", "customer.phone",
                                                        "customer.postcode"}
    assert store.count_records() == 0 and store.pending_count() == 0


def test_bad_vin_problem_says_where_and_why(store):
    with pytest.raises(RecordInvalid) as caught:
        store.save_record("sale", sale(vehicle={**sale()["vehicle"], "vin": "LSGJA52U9CH123456"}))
    [problem] = caught.value.problems
    assert (problem.field, problem.code) == ("vehicle.vin", "vin_check_digit")
    assert "check digit" in problem.message and problem.params["expected"] == "8"


def test_saving_requires_enrolment(tmp_path):
    with Store.open(tmp_path) as store, pytest.raises(NotEnrolled, match="dealer-agent enroll"):
        store.save_record("lead", lead())


@pytest.mark.parametrize("change, versions", [({}, [1]), ({"salesperson": "王强"}, [1, 2])])
def test_business_key_updates_instead_of_duplicating(store, change, versions):
    first = store.save_record("sale", sale())
    again = store.save_record("sale", sale(**change))
    assert again.record_id == first.record_id and store.count_records() == 1
    assert [e.version for e in store.outbox()] == versions


def test_business_key_of_another_record_is_refused(store):
    store.save_record("sale", sale("S-1"))
    other = store.save_record("sale", sale("S-2"))
    with pytest.raises(RecordInvalid, match="already belongs"):
        store.save_record("sale", sale("S-1"), record_id=other.record_id)


def test_edit_by_record_id_bumps_version(store):
    saved = store.save_record("lead", lead())
    edited = store.save_record("lead", lead(status="contacted"), record_id=saved.record_id)
    assert (edited.version, edited.changed, edited.seq) == (2, True, saved.seq + 1)
    assert store.get_record(saved.record_id).payload["status"] == "contacted"


def test_acknowledged_entries_leave_the_outbox_in_one_transaction(store):
    for name in ("a", "b", "c"):
        store.save_record("lead", lead(name))
    entries = store.outbox()
    summary = store.apply_results([result(entries[0], Outcome.applied),
                                   result(entries[1], Outcome.duplicate)])
    assert summary.acknowledged == 2 and [e.seq for e in store.outbox()] == [entries[2].seq]
    assert store.get_record(entries[0].record_id).synced


def test_stale_is_acknowledged_and_mismatched_record_id_ignored(store):
    store.save_record("lead", lead())
    [entry] = store.outbox()
    wrong = ItemResult(seq=entry.seq, record_id="someone-else", outcome=Outcome.applied)
    assert store.apply_results([wrong]).ignored == 1 and store.pending_count() == 1
    assert store.apply_results([result(entry, Outcome.stale)]).acknowledged == 1


def test_rejected_entry_moves_to_quarantine_with_reason(store):
    saved = store.save_record("lead", lead())
    [entry] = store.outbox()
    store.apply_results([result(entry, Outcome.rejected, code="bad", message="Nope.",
                                field="name")])
    [q] = store.quarantine_list()
    assert (q.record_id, q.version, q.code, q.message, q.field) == (saved.record_id, 1, "bad",
                                                                    "Nope.", "name")
    assert store.pending_count() == 0 and store.get_record(saved.record_id).acked_version is None


def test_crash_between_send_and_ack_keeps_entries_for_resend(tmp_path):
    with enrolled_store(tmp_path) as store:
        store.save_record("lead", lead())
        batch = store.next_batch(500, 1 << 20)
    # the process dies here: the batch was sent, the answer never applied
    with Store.open(tmp_path) as store:
        assert [e.seq for e in store.next_batch(500, 1 << 20)] == [batch[0].seq]


def test_seq_is_monotonic_across_restarts_and_empty_outbox(tmp_path):
    with enrolled_store(tmp_path) as store:
        first = store.save_record("lead", lead("a"))
        store.apply_results([result(store.outbox()[0], Outcome.applied)])
    with Store.open(tmp_path) as store:
        assert store.save_record("lead", lead("b")).seq == first.seq + 1


def test_renumbering_gives_fresh_seqs_in_new_epoch(store):
    for name in ("a", "b", "c"):
        store.save_record("lead", lead(name))
    store.apply_results([result(store.outbox()[0], Outcome.applied)])
    assert store.renumber_outbox(2) == 2
    assert [(e.seq, e.epoch) for e in store.outbox()] == [(1, 2), (2, 2)]
    assert store.require_identity().epoch == 2 and store.save_record("lead", lead("d")).seq == 3


def test_batch_respects_record_and_byte_limits(store):
    for name in "abcde":
        store.save_record("lead", lead(name))
    size = len(store.outbox()[0].payload) + 32
    assert len(store.next_batch(3, 1 << 20)) == 3
    assert len(store.next_batch(500, size * 2)) == 2
    assert len(store.next_batch(500, 1)) == 1  # one entry always goes


def quarantined(store, **fields):
    saved = store.save_record("lead", lead(**fields))
    entry = store.outbox()[-1]
    store.apply_results([result(entry, Outcome.rejected, code="bad", message="Nope.")])
    return saved, store.quarantine_list()[-1]


def test_fix_saves_new_version_and_leaves_quarantine(store):
    saved, entry = quarantined(store)
    fixed = store.quarantine_fix(entry.id, {**entry.payload, "salesperson": "李娜"})
    assert (fixed.record_id, fixed.version) == (saved.record_id, 2)
    assert store.quarantine_count() == 0 and store.outbox()[-1].version == 2


def test_fix_is_validated(store):
    _, entry = quarantined(store)
    with pytest.raises(RecordInvalid, match="phone"):
        store.quarantine_fix(entry.id, {**entry.payload, "phone": "12"})
    assert store.quarantine_count() == 1


def test_replay_requeues_same_version_under_fresh_seq(store):
    saved, entry = quarantined(store)
    replayed = store.quarantine_replay(entry.id)
    [pending] = store.outbox()
    assert (pending.version, pending.seq) == (1, saved.seq + 1) and replayed.seq == pending.seq
    assert store.quarantine_count() == 0


def test_discard_removes_a_record_the_portal_never_had(store):
    saved, entry = quarantined(store)
    store.quarantine_discard(entry.id)
    assert store.quarantine_count() == 0 and store.count_records() == 0


def test_newer_version_supersedes_rejected_one(store):
    saved, _ = quarantined(store)
    store.save_record("lead", lead(status="won"), record_id=saved.record_id)
    assert store.quarantine_count() == 0


def test_invalid_record_is_quarantined_once(store):
    problems = pytest.raises(RecordInvalid, store.save_record, "lead", lead(phone="1")).value
    first = store.quarantine_invalid("lead", lead(phone="1"), problems.problems)
    again = store.quarantine_invalid("lead", lead(phone="1"), problems.problems)
    assert first == (again[0], True) and again[1] is False
    assert store.quarantine_get(first[0]).field == "phone"


def test_pull_page_and_cursor_are_stored_together(store):
    changes = [{"id": 3, "kind": "order_status", "payload": {"order": "O1", "stage": "paint"},
                "created_at": "2024-01-01T00:00:00"},
               {"id": 4, "kind": "order_status", "payload": {"order": "O1", "stage": "assembly"},
                "created_at": "2024-01-02T00:00:00"}]
    store.apply_pull_page(changes, 4)
    assert store.pull_cursor() == 4
    assert [c["payload"]["stage"] for c in store.latest_pulled("order_status", "order")] == [
        "assembly"]


def test_acked_summary_counts_latest_acknowledged_versions(store):
    saved = store.save_record("lead", lead())
    store.apply_results([result(store.outbox()[0], Outcome.applied)])
    store.save_record("lead", lead(status="won"), record_id=saved.record_id)  # not acked yet
    assert store.acked_summary()["lead"]["count"] == 1
    assert store.get_record(saved.record_id).acked_version == 1


def test_list_records_filters_and_paginates(store):
    for number in range(5):
        store.save_record("sale", sale(f"S-{number}"))
    store.save_record("lead", lead())
    assert store.count_records("sale") == 5
    assert len(store.list_records("sale", limit=2, offset=4)) == 1
    assert [r.business_key for r in store.list_records(search="S-3")] == ["S-3"]
