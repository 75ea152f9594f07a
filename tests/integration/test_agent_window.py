"""The agent window against the real portal over loopback: first run in three steps, errors."""

from __future__ import annotations

import datetime as dt
import re
import socket
import time

import pytest
from sqlmodel import select

from portal.models import Sale
from portal.services import agents
from sync_agent.ui.context import LocalAgent
from tests.unit.agent_ui_fakes import SALE_FORM, make_ui


@pytest.fixture
def window(tmp_path):
    """A fresh, unenrolled agent whose window syncs by itself (no background service)."""
    local = LocalAgent(tmp_path / "agent", interval=3600).start()
    yield local, make_ui(local).test_client()
    local.close()


def code_for(db, dealer, **kwargs) -> str:
    issued = agents.issue_enrollment(session=db, dealer=dealer, **kwargs)
    db.commit()
    return issued.code


def error_of(response, field: str) -> str:
    found = re.search(rf'data-testid="error-{field}">([^<]*)<', response.get_data(as_text=True))
    return found.group(1) if found else ""


def test_from_enrolment_to_a_synced_record_in_three_steps(db, make_dealer, live_portal, window):
    local, client = window
    dealer = make_dealer()
    assert client.get("/").location.endswith("/enrol")  # step 1: the window opens on enrolment
    step2 = client.post("/enrol", data={"portal": live_portal, "code": code_for(db, dealer)})
    assert step2.status_code == 303 and local.store.identity().dealer_code == dealer.code
    client.post("/records/new/sale", data=SALE_FORM)  # step 3: the first record
    deadline = time.monotonic() + 20
    while local.store.pending_count() and time.monotonic() < deadline:
        time.sleep(0.1)
    db.expire_all()
    assert [s.deal_number for s in db.exec(select(Sale)).all()] == [SALE_FORM["deal_number"]]


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({}, "already used"), ({"now": dt.datetime.now(dt.UTC) - dt.timedelta(days=2)}, "expired"),
])
def test_a_used_or_expired_code_is_explained(db, make_dealer, live_portal, window, kwargs,
                                             reason):
    _local, client = window
    code = code_for(db, make_dealer(), **kwargs)
    if reason == "already used":
        agents.enroll(session=db, code=code, agent_name="other", agent_version="1")
        db.commit()
    message = error_of(client.post("/enrol", data={"portal": live_portal, "code": code}), "code")
    assert "门户拒绝了此注册码" in message and reason in message


def test_an_address_that_is_not_the_portal_is_explained(live_portal, window):
    _local, client = window
    data = {"portal": live_portal + "/nothing", "code": "ABCD1234"}
    response = client.post("/enrol", data=data)
    assert "不是经销商门户" in error_of(response, "portal")


def test_an_unreachable_portal_is_explained(window):
    _local, client = window
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    response = client.post("/enrol", data={"portal": f"http://127.0.0.1:{port}", "code": "ABCD"})
    assert "无法通过此地址连接门户" in error_of(response, "portal")


@pytest.mark.parametrize("address", ["portal.example.com", "ftp://portal", "http://"])
def test_a_malformed_address_is_explained_without_a_request(window, address):
    _local, client = window
    response = client.post("/enrol", data={"portal": address, "code": "ABCD1234"})
    assert response.status_code == 422 and "这不是网址" in error_of(response, "portal")
