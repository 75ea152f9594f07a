"""Fuzzing the API: schemathesis from /api/v1/openapi.json against the app in-process (WSGI),
with a real agent token and a real factory token, and hypothesis on factory batches.

The push payload's own hypothesis tests live in tests/integration/test_sync_fuzz.py.
"""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from sqlmodel import select

from portal.models import CarModel, FactoryEventReceipt
from portal.services import factory, orders
from portal.services.catalogue_seed import seed_catalogue
from tests.conftest import make_test_app
from tests.security.conftest import _agent

_ids = itertools.count()
FUZZ = settings(max_examples=25, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


@pytest.fixture
def fuzz_app(sqlite_url, tmp_path, db_for):
    """The portal on SQLite with one enrolled agent and one factory token."""
    app = make_test_app(sqlite_url, tmp_path)
    with db_for(app) as session:
        from tests.security.conftest import Dealer, Region

        region = Region(code="FZ", name_zh="区", name_en="Region")
        session.add(region)
        session.flush()
        dealer = Dealer(code="FZ1", name_zh="店", name_en="Store", region_id=region.id,
                        city_zh="上海", city_en="Shanghai")
        session.add(dealer)
        session.commit()
        app.config["FUZZ_AGENT"] = _agent(session, dealer)
        _row, app.config["FUZZ_FACTORY"] = factory.create_token(session=session, name="MES",
                                                                actor="hq")
        session.commit()
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def api_schema(fuzz_app):
    config = SchemathesisConfig()
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app, config=config)


def error_is_explained(ctx, response, case):
    """Every 4xx answer is JSON {"error": {"code", "message"}} with both filled in."""
    if 400 <= response.status_code < 500:
        error = response.json()["error"]
        assert error["code"] and error["message"], response.text


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, error_is_explained]


def _token(app, path: str) -> str:
    if path.endswith("/sync/token"):
        return "not-rotating-the-fuzzing-token"  # a rotation would end the agent's token
    return app.config["FUZZ_FACTORY"] if "factory" in path else app.config["FUZZ_AGENT"].token


def test_every_operation_answers_fuzzed_requests_without_500s(api_schema, fuzz_app):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 7

    for operation in operations:
        _fuzz(operation, {"Authorization": f"Bearer {_token(fuzz_app, operation.path)}"})


def _fuzz(operation, headers: dict) -> None:
    @FUZZ
    @given(case=operation.as_strategy())
    def call(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    call()


SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text()
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
EVENT_FIELDS = ["event_id", "order_number", "line", "unit", "stage", "at", "vin", "eta_from",
                "eta_to", "reason", "extra"]


@pytest.fixture
def order_number(fuzz_app, db_for) -> str:
    with db_for(fuzz_app) as session:
        seed_catalogue(session)
        gl8 = session.exec(select(CarModel).where(CarModel.code == "GL8")).one().id
        placed = orders.create_order(
            session=session, dealer_id=fuzz_app.config["FUZZ_AGENT"].dealer.id,
            actor=orders.Actor("t"), data=orders.OrderInput(
                kind="stock", delivery_point="store",
                lines=(orders.LineInput(gl8, "24L", "black", frozenset(), 1),)))
        session.commit()
        return placed.number


@FUZZ
@given(field=st.sampled_from(EVENT_FIELDS), value=JSON)
def test_a_mangled_factory_event_is_rejected_alone(fuzz_app, db_for, order_number, field, value):
    good = {"event_id": f"ok-{next(_ids)}", "order_number": order_number, "line": 1,
            "stage": "scheduled", "at": "2026-03-02T08:00:00+08:00"}
    bad = {**good, "event_id": f"bad-{next(_ids)}", field: value}
    response = fuzz_app.test_client().post("/api/v1/factory/events", json=[bad, good], headers={
        "Authorization": f"Bearer {fuzz_app.config['FUZZ_FACTORY']}"})
    assert response.status_code == 200, response.text
    assert response.json["results"][1]["outcome"] != "rejected", response.json
    with db_for(fuzz_app) as session:
        assert session.get(FactoryEventReceipt, good["event_id"]) is not None


@FUZZ
@given(body=JSON)
def test_any_json_body_gets_a_clear_answer_from_the_factory_feed(fuzz_app, body):
    response = fuzz_app.test_client().post("/api/v1/factory/events", json=body, headers={
        "Authorization": f"Bearer {fuzz_app.config['FUZZ_FACTORY']}"})
    assert response.status_code in (200, 400, 413), response.text
    if response.status_code != 200:
        assert response.json["error"]["code"] and response.json["error"]["message"]
