"""The portal side of the sync protocol over the Flask test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import event, text
from sqlmodel import Session, select

from common.protocol import SCHEMA_VERSION, checksum
from portal.models import (
    Agent,
    AgentSyncDay,
    AuditLog,
    Enrollment,
    Lead,
    RepairPart,
    Sale,
    SyncRejection,
)
from portal.services import agents, sync
from portal.tenancy import Scope, TenancyError, set_scope
from tests.integration.sync_factories import BUILDERS, lead, push_body, repair_order, sale


def outcomes(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["outcome"] for r in response.json["results"]]


def error_code(response) -> str:
    return response.json["error"]["code"]


# --- enrolment -----------------------------------------------------------------------------


def test_enrolment_returns_token_stored_only_as_hash(client, db, make_dealer):
    dealer = make_dealer()
    issued = agents.issue_enrollment(session=db, dealer=dealer)
    db.commit()
    response = client.post("/api/v1/enroll", json={"code": issued.code.lower().replace("-", " "),
                                                   "agent_name": "pc1", "agent_version": "1.0"})
    assert response.status_code == 201, response.text
    body = response.json
    assert body["dealer_code"] == dealer.code and body["epoch"] == 1
    stored = db.exec(select(Agent)).one()
    assert stored.token_hash == agents.sha256(body["token"]) != body["token"]
    assert body["token"] not in str(db.exec(select(Enrollment.code_hash)).all())


@pytest.mark.parametrize(("case", "reason"), [
    ("unknown", "unknown"), ("used", "already used"), ("expired", "expired")])
def test_enrolment_refuses_bad_codes(client, db, make_dealer, case, reason):
    now = dt.datetime.now(dt.UTC) - dt.timedelta(hours=25 if case == "expired" else 0)
    issued = agents.issue_enrollment(session=db, dealer=make_dealer(), now=now)
    db.commit()
    code = "ABCDE-FGHJK" if case == "unknown" else issued.code
    if case == "used":
        assert client.post("/api/v1/enroll", json={"code": code}).status_code == 201
    response = client.post("/api/v1/enroll", json={"code": code})
    assert response.status_code == 400
    assert error_code(response) == "enrollment_invalid"
    assert reason in response.json["error"]["message"]


def test_enrolment_is_audited(client, db, make_agent):
    enrolled = make_agent()
    actions = db.exec(select(AuditLog.action).where(AuditLog.dealer_id == enrolled.dealer.id))
    assert sorted(actions) == ["agent.enrolled", "enrollment.issued"]


# --- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize(("headers", "code"), [
    ({}, "unauthorized"), ({"Authorization": "Bearer nope"}, "unauthorized"),
    ({"Authorization": "Basic abc"}, "unauthorized")])
def test_push_needs_a_known_token(client, headers, code):
    response = client.post("/api/v1/sync/push", json={}, headers=headers)
    assert response.status_code == 401
    assert error_code(response) == code


def test_revoked_agent_gets_token_revoked(client, db, make_agent, push):
    enrolled = make_agent()
    agents.revoke(session=db, agent=db.merge(enrolled.agent), user_id=None, actor="test")
    db.commit()
    response = push(enrolled, [])
    assert response.status_code == 401
    assert error_code(response) == "token_revoked"
    assert "enrol it again" in response.json["error"]["message"]


# --- push outcomes -------------------------------------------------------------------------


def test_mixed_batch_answers_each_record_and_applies_the_valid_ones(db, make_agent, push):
    enrolled = make_agent()
    code = enrolled.dealer.code
    first = sale(code)
    assert outcomes(push(enrolled, [first])) == ["applied"]
    newer = first | {"version": 3, "price": "1.00"}
    older = first | {"version": 2}
    bad_vin = sale(code, vehicle=first["vehicle"] | {"vin": "LSGJA52U9CH123456"})
    batch = [first, newer, older, bad_vin, lead(code), {"kind": "unicorn"}]
    results = push(enrolled, batch, first_seq=2).json["results"]
    assert [r["outcome"] for r in results] == [
        "duplicate", "applied", "stale", "rejected", "applied", "rejected"]
    assert results[3]["field"] == "vehicle.vin" and results[3]["code"]
    assert results[5]["code"] == "invalid_kind"
    assert db.exec(select(Sale.version, Sale.price)).one() == (3, 1)
    assert len(db.exec(select(Lead)).all()) == 1


def test_resend_after_lost_response_is_duplicate(db, make_agent, push):
    enrolled = make_agent()
    batch = [BUILDERS[kind](enrolled.dealer.code) for kind in sorted(BUILDERS)]
    assert set(outcomes(push(enrolled, batch))) == {"applied"}
    assert set(outcomes(push(enrolled, batch))) == {"duplicate"}
    assert len(db.exec(select(RepairPart)).all()) == 1


def test_rejections_are_logged_once_and_judged_again(db, make_agent, push):
    enrolled = make_agent()
    bad = lead(enrolled.dealer.code, phone="123")
    assert outcomes(push(enrolled, [bad])) == ["rejected"]
    assert outcomes(push(enrolled, [bad])) == ["rejected"]
    rejection = db.exec(select(SyncRejection)).one()
    assert (rejection.seq, rejection.field, rejection.epoch) == (1, "phone", 1)


def test_newer_repair_order_version_replaces_its_parts(db, make_agent, push):
    enrolled = make_agent()
    ro = repair_order(enrolled.dealer.code)
    lines = [{"part_number": f"P{n}", "name": "滤清器", "qty": n} for n in (1, 2)]
    push(enrolled, [ro])
    assert outcomes(push(enrolled, [ro | {"version": 2, "parts": lines}], first_seq=2)) == [
        "applied"]
    assert sorted(db.exec(select(RepairPart.part_number))) == ["P1", "P2"]


@pytest.mark.parametrize("kind", ["sale", "repair_order"])
def test_business_key_of_another_record_is_rejected(make_agent, push, kind):
    enrolled = make_agent()
    key = "deal_number" if kind == "sale" else "ro_number"
    first = BUILDERS[kind](enrolled.dealer.code)
    clash = BUILDERS[kind](enrolled.dealer.code, **{key: first[key]})
    results = push(enrolled, [first, clash]).json["results"]
    assert [r["outcome"] for r in results] == ["applied", "rejected"]
    assert (results[1]["code"], results[1]["field"]) == ("duplicate_business_key", key)


@pytest.mark.parametrize("key", ['合同 "A", {1}', "back\\slash", "NULL", " spaced ", "{}"])
def test_a_held_business_key_is_found_whatever_its_characters(make_agent, push, key):
    """What is held is looked up with one array parameter: a key with quotes, commas, braces or
    backslashes is still found, so another record cannot take it in a later batch and the
    record's own next version keeps it."""
    enrolled = make_agent()
    first = sale(enrolled.dealer.code, deal_number=key)
    assert outcomes(push(enrolled, [first])) == ["applied"]
    clash = sale(enrolled.dealer.code, deal_number=key)
    results = push(enrolled, [clash], first_seq=2).json["results"]
    assert (results[0]["outcome"], results[0]["code"]) == ("rejected", "duplicate_business_key")
    assert outcomes(push(enrolled, [first | {"version": 2}], first_seq=3)) == ["applied"]


def test_lead_created_at_falls_back_to_updated_at(db, make_agent, push):
    enrolled = make_agent()
    push(enrolled, [lead(enrolled.dealer.code)])
    created = db.exec(select(Lead.created_at)).one()
    expected = dt.datetime(2024, 3, 1, 2, tzinfo=dt.UTC)  # 10:00 +08:00
    assert created.replace(tzinfo=created.tzinfo or dt.UTC) == expected


def test_push_is_a_heartbeat(db, make_agent, push):
    enrolled = make_agent()
    assert push(enrolled, [], pending=7).status_code == 200
    db.expire_all()
    agent = db.exec(select(Agent)).one()
    assert (agent.agent_version, agent.pending_count, agent.oldest_pending_age_s) == (
        "1.2.3", 7, 12.5)
    assert agent.last_seen_at is not None and agent.last_success_at is not None


def test_successful_pushes_count_one_synced_day(db, make_agent, push):
    enrolled = make_agent()
    push(enrolled, [])
    push(enrolled, [])
    [day] = db.exec(select(AgentSyncDay)).all()
    assert (day.agent_id, day.day) == (enrolled.agent.id, dt.datetime.now(dt.UTC).date())


def test_a_push_on_a_new_utc_day_counts_that_day_too(db, make_agent):
    agent = make_agent().agent
    monday = dt.datetime(2026, 3, 2, 23, 50, tzinfo=dt.UTC)
    for now in (monday, monday + dt.timedelta(minutes=5), monday + dt.timedelta(minutes=15)):
        sync.record_heartbeat(session=db, agent=agent, request=None, now=now, success=True)
        db.commit()
    db.expire_all()
    days = db.exec(select(AgentSyncDay.day).order_by(AgentSyncDay.day)).all()
    assert days == [dt.date(2026, 3, 2), dt.date(2026, 3, 3)]
    last = db.get(Agent, (agent.dealer_id, agent.id)).last_success_at
    assert last.replace(tzinfo=last.tzinfo or dt.UTC) == monday + dt.timedelta(minutes=15)


def test_push_writes_under_the_servers_plan_cache_mode(engine, db, make_agent, monkeypatch):
    """Per-batch planning is for the lookups only: kept for the writes, PostgreSQL planned its
    foreign-key check again for every row written (half of its CPU in an ingest)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL setting")
    enrolled = make_agent()
    default = db.execute(text("SHOW plan_cache_mode")).scalar_one()
    request = sync.parse_push(push_body(enrolled, [sale(enrolled.dealer.code)]))
    modes = []

    def write(session, *args):
        modes.append(session.execute(text("SHOW plan_cache_mode")).scalar_one())
        original_write(session, *args)

    original_write = sync._write
    monkeypatch.setattr(sync, "_write", write)
    with set_scope(Session(engine), Scope.dealers([enrolled.dealer.id])) as session:
        agent = session.get(Agent, (enrolled.dealer.id, enrolled.agent.id))
        now = sync.utcnow()
        items = sync.prepare(agent=agent, dealer=enrolled.dealer, request=request, now=now,
                             dialect=engine.dialect)
        answer = sync.push(session=session, agent=agent, request=request, items=items, now=now)
        session.commit()
    assert [r.outcome for r in answer.results] == ["applied"]
    assert modes == [default] and default != "force_custom_plan"


def test_postgresql_connections_send_lists_as_binary_arrays(engine):
    """The lookups of what a push holds pass up to 500 ids as one array: psycopg writes a list
    as text by default, five times the CPU of binary."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL driver setting")
    from psycopg.adapt import PyFormat
    from psycopg.types.array import ListBinaryDumper

    connection = engine.raw_connection()
    try:
        dumper = connection.driver_connection.adapters.get_dumper(list, PyFormat.AUTO)
    finally:
        connection.close()
    assert dumper is ListBinaryDumper


def test_the_answer_is_written_as_pydantic_writes_it(engine, make_agent, push):
    """The push answers with JSON made from a template for accepted records: byte for byte what
    pydantic writes for the same results, for each outcome and for a rejection's own text."""
    enrolled = make_agent()
    code = enrolled.dealer.code
    held, older = sale(code), lead(code, version=2)
    assert outcomes(push(enrolled, [held, older])) == ["applied", "applied"]
    batch = [held, older | {"version": 1}, lead(code, phone='13"8 号码\\'), sale(code)]
    request = sync.parse_push(push_body(enrolled, batch, first_seq=3))
    with set_scope(Session(engine), Scope.dealers([enrolled.dealer.id])) as session:
        agent = session.get(Agent, (enrolled.dealer.id, enrolled.agent.id))
        now = sync.utcnow()
        items = sync.prepare(agent=agent, dealer=enrolled.dealer, request=request, now=now,
                             dialect=engine.dialect)
        sync.apply(session=session, agent=agent, request=request, items=items, now=now)
        session.commit()
    expected = sync.answer(items, now)
    assert [r.outcome for r in expected.results] == ["duplicate", "stale", "rejected", "applied"]
    assert sync.answer_json(items, now) == expected.model_dump_json()


def test_what_is_held_is_looked_up_key_by_key(engine, make_agent, push):
    """The lookups before a batch is judged search an index for each record id and business
    key; none reads all of the dealer's records (SQLite, whose planner has no row count for
    json_each, scanned them when the two kinds of key were asked for with an OR)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plans")
    enrolled = make_agent()
    code = enrolled.dealer.code
    assert outcomes(push(enrolled, [sale(code), repair_order(code), lead(code)])) == [
        "applied"] * 3
    lookups = []

    def seen(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().startswith("SELECT") and "json_each" in statement:
            lookups.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert outcomes(push(enrolled, [sale(code), repair_order(code)], first_seq=4)) == [
            "applied"] * 2
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert {table for statement, _ in lookups
            for table in ("syncreceipt", "sale", "repairorder") if f"FROM {table}" in statement
            } == {"syncreceipt", "sale", "repairorder"}
    with engine.connect() as connection:
        for statement, parameters in lookups:
            plan = [row[-1] for row in connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", parameters)]
            reads = [step for step in plan if step.startswith(("SEARCH", "SCAN"))
                     and "json_each" not in step]
            assert reads and all(step.startswith("SEARCH") and "dealer_id=? AND" in step
                                 for step in reads), plan


# --- request-level refusals ----------------------------------------------------------------


@pytest.mark.parametrize("version", [SCHEMA_VERSION + 1, SCHEMA_VERSION - 2, "1", None])
def test_unsupported_schema_version(make_agent, push, version):
    response = push(make_agent(), [], schema_version=version)
    assert response.status_code == 422
    assert error_code(response) == "unsupported_schema"
    assert "update the agent" in response.json["error"]["message"]


@pytest.mark.parametrize("mutate", [
    lambda body: body["records"].append({"record": {}}),
    lambda body: body["records"].append({"seq": 1, "record": "x"}),
    lambda body: body.pop("heartbeat"),
    lambda body: body.update(agent_id="not-a-uuid"),
])
def test_malformed_envelope_is_400(client, make_agent, mutate):
    enrolled = make_agent()
    body = push_body(enrolled, [])
    mutate(body)
    response = client.post("/api/v1/sync/push", json=body, headers=enrolled.headers)
    assert response.status_code == 400
    assert error_code(response) == "bad_request" and response.json["error"]["message"]


def test_other_agents_id_is_forbidden(client, make_agent):
    mine, other = make_agent(), make_agent()
    body = push_body(other, [])
    response = client.post("/api/v1/sync/push", json=body, headers=mine.headers)
    assert response.status_code == 403 and error_code(response) == "forbidden"


def test_old_epoch_is_a_conflict(client, make_agent, push):
    enrolled = make_agent()
    assert client.post("/api/v1/sync/epoch", headers=enrolled.headers).json == {"epoch": 2}
    response = push(enrolled, [sale(enrolled.dealer.code)], epoch=1)
    assert response.status_code == 409 and error_code(response) == "epoch_conflict"


def test_sequence_regression_applies_nothing_until_a_new_epoch(db, client, make_agent, push):
    enrolled = make_agent()
    code = enrolled.dealer.code
    push(enrolled, [sale(code), sale(code)])
    restored = [sale(code), sale(code)]  # seqs 2 and 3: 2 was another record before the restore
    response = push(enrolled, restored, first_seq=2)
    assert response.status_code == 409 and error_code(response) == "sequence_regressed"
    assert len(db.exec(select(Sale)).all()) == 2
    assert client.post("/api/v1/sync/epoch", headers=enrolled.headers).json == {"epoch": 2}
    assert outcomes(push(enrolled, restored, epoch=2)) == ["applied", "applied"]


# --- tenancy, pull, verify -----------------------------------------------------------------


def test_agent_cannot_write_another_dealers_records(db, make_agent, make_dealer, push):
    enrolled, other = make_agent(), make_dealer()
    result = push(enrolled, [sale(other.code)]).json["results"][0]
    assert (result["outcome"], result["code"], result["field"]) == (
        "rejected", "wrong_dealer", "dealer_code")
    assert db.exec(select(Sale)).all() == []


def test_same_record_id_at_two_dealers_stays_apart(db, make_agent, push):
    a, b = make_agent(), make_agent()
    record = sale(a.dealer.code)
    push(a, [record])
    assert outcomes(push(b, [record | {"dealer_code": b.dealer.code}])) == ["applied"]
    assert len(db.exec(select(Sale)).all()) == 2


def test_pull_pages_through_own_and_broadcast_changes(db, client, make_agent):
    from portal.services.sync import publish_change

    mine, other = make_agent(), make_agent()
    for n in range(5):
        publish_change(db, dealer_id=mine.dealer.id, kind="order_status", payload={"n": n})
        publish_change(db, dealer_id=other.dealer.id, kind="order_status", payload={"n": -1})
    publish_change(db, dealer_id=None, kind="catalogue", payload={"n": 5})
    db.commit()
    seen, cursor, more = [], 0, True
    while more:
        page = client.get(f"/api/v1/sync/pull?cursor={cursor}&limit=2", headers=mine.headers).json
        seen += [c["payload"]["n"] for c in page["changes"]]
        cursor, more = page["cursor"], page["more"]
    assert seen == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "query", ["cursor=-1", "cursor=x", f"cursor={2**63}", "limit=0", "limit=5000"])
def test_pull_refuses_bad_arguments(client, make_agent, query):
    response = client.get(f"/api/v1/sync/pull?{query}", headers=make_agent().headers)
    assert response.status_code == 400 and error_code(response) == "bad_request"


def test_verify_counts_and_checksums_own_records_only(client, make_agent, push):
    mine, other = make_agent(), make_agent()
    records = [sale(mine.dealer.code), lead(mine.dealer.code)]
    push(mine, records)
    push(mine, [records[1] | {"version": 2}], first_seq=3)
    push(other, [lead(other.dealer.code)])
    kinds = client.get("/api/v1/sync/verify", headers=mine.headers).json["kinds"]
    assert set(kinds) == set(BUILDERS)
    assert kinds["lead"] == {"count": 1, "checksum": checksum([(records[1]["record_id"], 2)])}
    assert kinds["sale"]["count"] == 1 and kinds["survey"]["count"] == 0


def test_openapi_document_lists_the_protocol(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    assert {"/api/v1/enroll", "/api/v1/sync/push", "/api/v1/sync/pull", "/api/v1/sync/epoch",
            "/api/v1/sync/verify"} <= set(document["paths"])
    push_schema = document["paths"]["/api/v1/sync/push"]["post"]
    assert {"401", "409", "422"} <= set(push_schema["responses"])
    assert "PushRequest" in document["components"]["schemas"]


def test_unknown_agent_uuid_in_pull_is_not_leaked(client, make_agent):
    response = client.get(f"/api/v1/sync/pull?cursor=0&agent={uuid.uuid4()}",
                          headers=make_agent().headers)
    assert response.status_code == 200 and response.json["changes"] == []


def test_the_push_paths_driver_inserts_stay_in_the_tenancy_scope(engine, make_dealer):
    """Pushed rows go to the driver directly (COPY / executemany), past the tenancy layer's
    session event: the push path checks the scope itself before writing."""
    mine, other = make_dealer(), make_dealer()
    agent = Agent(id=uuid.uuid4(), dealer_id=other.id, name="b", token_hash="x")
    with set_scope(Session(engine), Scope.dealers([mine.id])) as session:
        with pytest.raises(TenancyError):
            sync._write(session, agent, [], sync._Held())
