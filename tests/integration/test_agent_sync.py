"""The headless agent against the real portal over HTTP on loopback (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from common.protocol import API_PREFIX
from portal.models import Agent, Lead, Sale, SyncReceipt
from portal.services import agents
from portal.services.sync import publish_change
from sync_agent import coordinator as coordinator_module
from sync_agent.cli import main
from sync_agent.client import Client
from sync_agent.coordinator import Coordinator
from sync_agent.store import Store
from tests.unit.agent_fakes import lead, sale


@pytest.fixture
def dealer(make_dealer):
    return make_dealer()


@pytest.fixture
def enrol(db, dealer, live_portal, tmp_path):
    """Enrol an agent with `dealer-agent enroll` in a fresh data directory; returns the dir."""

    def do(name: str = "agent") -> str:
        issued = agents.issue_enrollment(session=db, dealer=dealer, actor="test")
        db.commit()
        data_dir = str(tmp_path / name)
        assert main(["enroll", "--portal", live_portal, "--code", issued.code,
                     "--data-dir", data_dir]) == 0
        return data_dir

    return do


@pytest.fixture
def agent(enrol):
    """An enrolled agent's store and coordinator, as the window would hold them."""
    with Store.open(enrol()) as store, Coordinator(store) as coordinator:
        yield coordinator


def held(db, table) -> dict[str, int]:
    """record_id -> version of what the portal holds (and end the read transaction)."""
    rows = {str(r): v for r, v in db.exec(select(table.record_id, table.version)).all()}
    db.commit()
    return rows


def test_enrol_save_sync_is_visible_at_portal(agent, db, dealer):
    saved = agent.save_record("sale", sale())
    report = agent.sync()
    assert report.ok and report.acknowledged == 1
    assert held(db, Sale) == {saved.record_id: 1}
    assert agent.status().online and agent.status().dealer_code == dealer.code


def test_bad_enrolment_code_is_refused_with_advice(live_portal, tmp_path, capsys):
    status = main(["enroll", "--portal", live_portal, "--code", "ABCDE-FGHJK",
                   "--data-dir", str(tmp_path)])
    assert status == 1 and "ask" in capsys.readouterr().err.lower()


def test_edit_reaches_portal_as_new_version(agent, db):
    saved = agent.save_record("lead", lead())
    agent.sync()
    agent.save_record("lead", lead(status="won"), record_id=saved.record_id)
    agent.sync()
    assert held(db, Lead) == {saved.record_id: 2}


def test_lost_response_is_answered_duplicate_and_applied_once(agent, db):
    saved = agent.save_record("lead", lead())
    store = agent.store
    identity = store.require_identity()
    client, answers = Client(identity.portal_url, identity.token), []
    client.session.hooks["response"].append(lambda response, **_: answers.append(response))
    request = agent._push_body(store.next_batch(500, 1 << 20))
    client.push(request)  # applied, but the agent "never saw" the answer
    client.push(request)  # the resend
    assert [a.json()["results"][0]["outcome"] for a in answers] == ["applied", "duplicate"]
    assert agent.sync().ok and store.pending_count() == 0
    receipts = db.exec(select(func.count()).select_from(SyncReceipt)).one()
    db.commit()
    assert receipts == 1 and held(db, Lead) == {saved.record_id: 1}
    client.close()


def test_rejected_record_is_quarantined_then_fixed(enrol, db):
    with Store.open(enrol("pc1")) as first, Store.open(enrol("pc2")) as second, \
            Coordinator(first) as pc1, Coordinator(second) as pc2:
        pc1.save_record("sale", sale("S-1"))
        pc1.sync()
        saved = pc2.save_record("sale", sale("S-1", salesperson="王强"))  # same deal number
        assert pc2.sync().rejected == 1
        [entry] = second.quarantine_list()
        assert (entry.code, entry.field) == ("duplicate_business_key", "deal_number")
        second.quarantine_fix(entry.id, {**entry.payload, "deal_number": "S-2"})
        assert pc2.sync().ok and second.quarantine_count() == 0
    assert saved.record_id in held(db, Sale) and len(held(db, Sale)) == 2


def test_revoked_agent_stops_with_a_clear_message(agent, db, capsys):
    record = db.exec(select(Agent)).one()
    agents.revoke(session=db, agent=record, user_id=None, actor="test")
    db.commit()
    agent.save_record("lead", lead())
    report = agent.sync()
    assert not report.ok and "revoked in the portal; enrol it again" in report.error
    assert agent.status().state == "stopped" and agent.sync().skipped == "stopped"
    data_dir = str(agent.store.path.parent)
    assert main(["run", "--data-dir", data_dir, "--interval", "0.1"]) == 3
    assert "revoked in the portal" in capsys.readouterr().err
    assert agent.store.pending_count() == 1  # nothing is lost: it waits for re-enrolment


def test_unsupported_schema_says_please_update(agent, monkeypatch):
    monkeypatch.setattr(coordinator_module, "SCHEMA_VERSION", 99)
    report = agent.sync()
    assert not report.ok and "please update the agent" in report.error
    assert agent.stopped


def test_verify_equal_then_detects_a_difference(agent, db, capsys):
    agent.save_record("lead", lead())
    agent.save_record("sale", sale())
    agent.sync()
    data_dir = str(agent.store.path.parent)
    assert main(["verify", "--data-dir", data_dir]) == 0
    row = db.exec(select(Lead)).one()
    row.version = 7  # the portal's copy drifts
    db.add(row)
    db.commit()
    capsys.readouterr()
    assert main(["verify", "--data-dir", data_dir]) == 1
    out, err = capsys.readouterr()
    assert "lead" in err and "sale" not in err and "DIFFERENT" in out


def test_restored_store_starts_a_new_epoch(enrol, db, tmp_path):
    data_dir = enrol()
    with Store.open(data_dir) as store, Coordinator(store) as coordinator:
        coordinator.save_record("lead", lead("甲"))
        coordinator.sync()
        store.save_record("lead", lead("丁"))  # still pending when the backup is taken
    backup = str(tmp_path / "agent-backup.db")
    assert main(["backup", backup, "--data-dir", data_dir]) == 0
    with Store.open(data_dir) as store, Coordinator(store) as coordinator:
        coordinator.save_record("lead", lead("乙"))
        coordinator.sync()
    assert main(["restore", backup, "--data-dir", data_dir]) == 0  # the sequence goes back
    with Store.open(data_dir) as store, Coordinator(store) as coordinator:
        third = store.save_record("lead", lead("丙"))
        assert coordinator.sync().ok and store.pending_count() == 0
        assert store.require_identity().epoch == 2
    assert held(db, Lead)[third.record_id] == 1 and len(held(db, Lead)) == 4
    assert db.exec(select(func.count()).select_from(Lead)).one() == 4  # each exactly once


def test_an_edit_after_a_restore_is_not_lost(enrol, db, tmp_path):
    data_dir = enrol()
    with Store.open(data_dir) as store, Coordinator(store) as coordinator:
        first = coordinator.save_record("lead", lead("甲"))
        coordinator.sync()
    backup = str(tmp_path / "agent-backup.db")
    assert main(["backup", backup, "--data-dir", data_dir]) == 0
    with Store.open(data_dir) as store, Coordinator(store) as coordinator:
        store.save_record("lead", lead("甲", status="contacted"), record_id=first.record_id)
        coordinator.sync()  # version 2 reaches the portal, then the PC is restored
    assert main(["restore", backup, "--data-dir", data_dir]) == 0
    with Store.open(data_dir) as store, Coordinator(store) as coordinator:
        store.save_record("lead", lead("甲", status="won"), record_id=first.record_id)
        assert coordinator.sync().ok and store.pending_count() == 0
    assert db.exec(select(Lead.status)).one() == "won"


def test_pull_stores_order_status_for_offline_view(agent, db, dealer):
    publish_change(db, dealer_id=dealer.id, kind="order_status",
                   payload={"order_number": "O-1", "status": "paint"})
    publish_change(db, dealer_id=None, kind="catalogue", payload={"brand": "Buick"})
    db.commit()
    assert agent.sync().pulled == 2
    [change] = agent.store.latest_pulled("order_status", "order_number")
    assert change["payload"]["status"] == "paint" and agent.store.pull_cursor() > 0


def test_import_then_sync_from_the_cli(enrol, db, tmp_path, capsys):
    data_dir = enrol()
    path = tmp_path / "leads.jsonl"
    path.write_text('{"kind": "lead", "name": "赵敏", "phone": "13812345678", '
                    '"purchase_timeframe": "immediate", "source": "walk_in"}\n', encoding="utf-8")
    assert main(["import", str(path), "--data-dir", data_dir]) == 0
    assert main(["sync", "--data-dir", data_dir]) == 0
    assert main(["import", str(path), "--data-dir", data_dir]) == 0  # again: nothing new
    assert main(["sync", "--data-dir", data_dir]) == 0
    assert len(held(db, Lead)) == 1 and "1 unchanged" in capsys.readouterr().out


def test_api_prefix_is_the_contract(live_portal):
    assert Client(live_portal).base == live_portal + API_PREFIX
