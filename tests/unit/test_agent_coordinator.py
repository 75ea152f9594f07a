"""The sync coordinator against an in-memory portal: draining, acks, epochs, failures, backoff."""

from __future__ import annotations

import logging
import random

import pytest

from sync_agent.client import AuthError, RequestRejected, TooLarge, TransientError, UpdateRequired
from sync_agent.coordinator import Backoff, Coordinator
from tests.unit.agent_fakes import FakePortal, enrolled_store, lead, sale


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def portal():
    return FakePortal()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_path):
    with enrolled_store(tmp_path) as store:
        yield store


@pytest.fixture
def coordinator(store, portal, clock):
    return Coordinator(store, client_factory=lambda identity: portal, clock=clock,
                       backoff=Backoff(rng=random.Random(7)), batch_records=2)


def test_backlog_drains_in_one_sync_batch_after_batch(coordinator, store, portal):
    for name in "abcde":
        store.save_record("lead", lead(name))
    report = coordinator.sync()
    assert report.ok and report.acknowledged == 5 and store.pending_count() == 0
    assert [len(p.records) for p in portal.pushes] == [2, 2, 1]


def test_the_push_carries_each_saved_record_as_the_portal_validates_it(coordinator, store,
                                                                      portal):
    saved = [store.save_record("lead", lead(name)) for name in ("张三", 'Ann "Q" <b>')]
    coordinator.sync()
    [request] = portal.pushes  # parsed from the body's bytes by PushRequest.model_validate_json
    identity = store.require_identity()
    assert (str(request.agent_id), request.epoch) == (identity.agent_id, identity.epoch)
    assert [item.seq for item in request.records] == [1, 2]
    assert [item.record for item in request.records] == [
        store.get_record(s.record_id).payload for s in saved]


def test_empty_push_is_the_heartbeat(coordinator, store, portal):
    store.save_record("lead", lead("a"))
    portal.reject_names.add("a")
    coordinator.sync()
    coordinator.sync()
    beat = portal.pushes[-1]
    assert beat.records == [] and beat.heartbeat.quarantine_count == 1
    assert beat.heartbeat.pending_count == 0


def test_lost_response_is_resent_and_answered_duplicate(coordinator, store, portal, clock):
    store.save_record("lead", lead())
    portal.lose_next = 1
    assert not coordinator.sync().ok and store.pending_count() == 1
    clock.now += 600
    assert coordinator.sync().ok and store.pending_count() == 0
    assert list(portal.applied.values()) == [1]


def test_rejected_record_is_quarantined_and_others_applied(coordinator, store, portal):
    store.save_record("lead", lead("bad"))
    store.save_record("lead", lead("good"))
    portal.reject_names.add("bad")
    report = coordinator.sync()
    assert (report.acknowledged, report.rejected) == (1, 1)
    assert store.quarantine_list()[0].code == "bad_name"


def test_restored_store_starts_new_epoch_and_renumbers(coordinator, store, portal):
    store.save_record("lead", lead("a"))
    coordinator.sync()
    portal.high_water = 10  # the portal saw more than this (restored) store remembers
    store.save_record("lead", lead("b"))
    assert coordinator.sync().ok and store.pending_count() == 0
    assert store.require_identity().epoch == portal.epoch == 2
    assert portal.pushes[-1].epoch == 2 and portal.pushes[-1].records[0].seq == 1


@pytest.mark.parametrize("error, stopped", [
    (AuthError("This agent was revoked in the portal; enrol it again", status=401,
               code="token_revoked"), True),
    (UpdateRequired("please update the agent", status=422, code="unsupported_schema"), True),
    (RequestRejected("bad request", status=400, code="bad_request"), False),
])
def test_refusals_are_not_retried_blindly(coordinator, store, portal, clock, error, stopped):
    portal.fail_next.append(error)
    report = coordinator.sync()
    assert not report.ok and error.message in store.get_meta("last_error")
    clock.now += 60
    assert coordinator.sync().skipped == ("stopped" if stopped else "backing_off")
    assert len(portal.pushes) == 1 and coordinator.status().state == (
        "stopped" if stopped else "offline")


def test_stop_is_lifted_by_a_successful_forced_sync(coordinator, store, portal):
    portal.fail_next.append(AuthError("revoked", status=401, code="token_revoked"))
    coordinator.sync()
    assert coordinator.sync(force=True).ok and not coordinator.stopped


def test_transient_failures_back_off_then_reset(coordinator, portal, clock):
    portal.fail_next.extend(TransientError("down") for _ in range(3))
    delays = []
    for _ in range(3):
        coordinator.sync()
        delays.append(coordinator.next_retry_in())
        assert coordinator.sync().skipped == "backing_off"
        clock.now += delays[-1] + 0.001
    assert coordinator.sync().ok and coordinator.next_retry_in() is None
    assert coordinator.backoff.failures == 0 and all(d <= 2 ** i for i, d in enumerate(delays))


def test_an_answered_push_resets_the_backoff(coordinator, store, portal, clock, monkeypatch):
    def lost_pull(cursor, limit=200):
        raise TransientError("pull cut")

    monkeypatch.setattr(portal, "pull", lost_pull)
    for _ in range(6):
        store.save_record("lead", lead(f"n{clock.now}"))
        assert not coordinator.sync().ok
        clock.now += 400
    assert coordinator.backoff.failures == 1
    assert store.pending_count() == 0


def test_backoff_is_full_jitter_and_capped():
    backoff = Backoff(base=1, cap=300, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(40)]
    assert all(0 <= d <= min(300, 2 ** i) for i, d in enumerate(delays))
    assert max(delays[20:]) > 150  # the cap is reached, not exceeded


def test_retry_after_is_respected(coordinator, portal):
    portal.fail_next.append(TransientError("busy", status=429, retry_after=120))
    coordinator.sync()
    assert coordinator.next_retry_in() >= 120


def test_outage_logged_once_and_recovery_once(coordinator, portal, clock, caplog):
    portal.fail_next.extend(TransientError("down") for _ in range(4))
    with caplog.at_level(logging.INFO, logger="sync_agent"):
        for _ in range(5):
            coordinator.sync()
            clock.now += 600
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert len(messages) == 2
    assert "Sync failed" in messages[0] and "reachable again" in messages[1]


def test_too_large_batch_is_split(coordinator, store, portal):
    for name in "ab":
        store.save_record("lead", lead(name))
    portal.fail_next.append(TooLarge("too large", status=413, code="too_large"))
    assert coordinator.sync().ok and [len(p.records) for p in portal.pushes] == [2, 1, 1]


def test_save_through_coordinator_requests_immediate_sync(coordinator):
    asked = []
    coordinator.wakeup = asked.append
    coordinator.save_record("sale", sale())
    coordinator.save_record("sale", sale())  # unchanged: nothing to push
    assert asked == [0]


def test_pull_applies_pages_until_no_more(coordinator, store, portal):
    portal.changes = [{"id": i, "kind": "catalogue", "payload": {"n": i}, "created_at": None}
                      for i in range(1, 451)]
    assert coordinator.sync().pulled == 450
    assert store.pull_cursor() == 450 and len(store.pulled_changes("catalogue", limit=500)) == 450


def test_status_reports_what_the_window_shows(coordinator, store, clock):
    store.save_record("lead", lead())
    status = coordinator.status().as_dict()
    assert status["pending_count"] == 1 and status["state"] == "never_synced"
    assert status["epoch"] == 1 and status["portal"] == "http://127.0.0.1:9"
    coordinator.sync()
    assert coordinator.status().online and coordinator.status().last_success
