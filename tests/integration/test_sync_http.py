"""The sync protocol over real HTTP on loopback: enrolment, lost responses, racing resends."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlmodel import func, select
from werkzeug.serving import make_server

from portal.models import Sale, SyncReceipt
from portal.services import agents
from tests.integration.sync_factories import EnrolledAgent, push_body, sale


@pytest.fixture
def portal_url(app):
    """Serve the app on a free loopback port for the duration of the test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/v1"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def enrolled_over_http(db, make_dealer, portal_url):
    dealer = make_dealer()
    issued = agents.issue_enrollment(session=db, dealer=dealer)
    db.commit()
    answer = requests.post(f"{portal_url}/enroll", json={"code": issued.code, "agent_name": "pc"},
                           timeout=10)
    assert answer.status_code == 201, answer.text
    agent = agents.get_agent(session=db, agent_id=uuid.UUID(answer.json()["agent_id"]))
    return EnrolledAgent(agent, answer.json()["token"], dealer)


def test_resend_after_a_lost_response_is_a_duplicate(portal_url, enrolled_over_http):
    enrolled = enrolled_over_http
    body = push_body(enrolled, [sale(enrolled.dealer.code) for _ in range(50)])
    first = requests.post(f"{portal_url}/sync/push", json=body, headers=enrolled.headers,
                          timeout=30)
    again = requests.post(f"{portal_url}/sync/push", json=body, headers=enrolled.headers,
                          timeout=30)
    assert {r["outcome"] for r in first.json()["results"]} == {"applied"}
    assert {r["outcome"] for r in again.json()["results"]} == {"duplicate"}


def test_racing_resends_apply_each_record_once(db, portal_url, enrolled_over_http):
    enrolled = enrolled_over_http
    body = push_body(enrolled, [sale(enrolled.dealer.code) for _ in range(200)])

    def send(_):
        return requests.post(f"{portal_url}/sync/push", json=body, headers=enrolled.headers,
                             timeout=60)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(send, range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    applied = sum(r["outcome"] == "applied" for a in answers for r in a.json()["results"])
    assert applied == 200
    assert db.exec(select(func.count()).select_from(Sale)).one() == 200
    assert db.exec(select(func.count()).select_from(SyncReceipt)).one() == 200


def test_revoked_token_is_refused_over_http(db, portal_url, enrolled_over_http):
    enrolled = enrolled_over_http
    agents.revoke(session=db, agent=enrolled.agent, user_id=None, actor="test")
    db.commit()
    answer = requests.get(f"{portal_url}/sync/pull", headers=enrolled.headers, timeout=10)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "token_revoked"
