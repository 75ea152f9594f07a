"""Factories for the sync protocol tests: enrolled agents, wire records, push bodies.

Import the fixtures you use into a test module (``from ... import make_agent  # noqa: F401``).
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

import pytest

from common.protocol import SCHEMA_VERSION
from portal.models import Agent, Dealer
from portal.services import agents

VIN = "LSGJA52U8CH123456"
_numbers = itertools.count(1)


@dataclass
class EnrolledAgent:
    agent: Agent
    token: str
    dealer: Dealer

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


def header(dealer_code: str, kind: str, record_id: str | None = None, version: int = 1) -> dict:
    return {"record_id": record_id or str(uuid.uuid4()), "kind": kind, "dealer_code": dealer_code,
            "version": version, "updated_at": "2024-03-01T10:00:00+08:00"}


def sale(dealer_code: str, **overrides) -> dict:
    customer = {"name": "张伟", "phone": "13812345678", "postcode": "200000",
                "customer_type": "individual"}
    vehicle = {"vin": VIN, "brand": "Buick", "model": "GL8", "model_year": 2024}
    return header(dealer_code, "sale") | {
        "deal_number": f"S-{next(_numbers)}", "sale_date": "2024-02-29", "customer": customer,
        "vehicle": vehicle, "salesperson": "李娜", "price": "268000.00"} | overrides


def repair_order(dealer_code: str, **overrides) -> dict:
    return header(dealer_code, "repair_order") | {
        "ro_number": f"RO-{next(_numbers)}", "vin": VIN, "opened_at": "2024-03-02T09:00:00+08:00",
        "odometer_km": 12000, "technician": "王强", "labor_hours": "1.5", "amount": "800.00",
        "parts": [{"part_number": "24105735", "name": "机油滤清器", "qty": 1}]} | overrides


def lead(dealer_code: str, **overrides) -> dict:
    return header(dealer_code, "lead") | {
        "name": "赵敏", "phone": "021-12345678", "purchase_timeframe": "within_3_months",
        "source": "auto_show"} | overrides


def contact(dealer_code: str, **overrides) -> dict:
    return header(dealer_code, "contact") | {
        "customer_ref": VIN, "channel": "call", "at": "2024-03-10T15:00:00Z", "by": "李娜"
    } | overrides


def complaint(dealer_code: str, **overrides) -> dict:
    return header(dealer_code, "complaint") | {
        "customer_ref": VIN, "received_at": "2024-03-11T08:00:00Z", "channel": "wechat",
        "category": "service", "description": "等待时间太长"} | overrides


def survey(dealer_code: str, **overrides) -> dict:
    return header(dealer_code, "survey") | {
        "customer_ref": VIN, "about": "repair", "score": 5, "at": "2024-03-12T08:00:00Z"
    } | overrides


BUILDERS = {"sale": sale, "repair_order": repair_order, "lead": lead, "contact": contact,
            "complaint": complaint, "survey": survey}


def push_body(enrolled: EnrolledAgent, records: list[dict], *, first_seq: int = 1,
              epoch: int = 1, schema_version: int = SCHEMA_VERSION, pending: int = 0) -> dict:
    return {
        "agent_id": str(enrolled.agent.id), "epoch": epoch, "schema_version": schema_version,
        "heartbeat": {"agent_version": "1.2.3", "pending_count": pending,
                      "oldest_pending_age_s": 12.5 if pending else None, "quarantine_count": 0},
        "records": [{"seq": first_seq + n, "record": r} for n, r in enumerate(records)],
    }


@pytest.fixture
def make_agent(db, make_dealer):
    """Enrol an agent through the service (as the API does) and return it with its token."""

    def make(dealer: Dealer | None = None, name: str = "front-desk") -> EnrolledAgent:
        dealer = dealer or make_dealer()
        issued = agents.issue_enrollment(session=db, dealer=dealer, actor="test")
        enrolled = agents.enroll(session=db, code=issued.code, agent_name=name,
                                 agent_version="1.0.0")
        db.commit()
        return EnrolledAgent(enrolled.agent, enrolled.token, dealer)

    return make


@pytest.fixture
def push(client):
    """POST a push body for *enrolled*; returns the response."""

    def do(enrolled: EnrolledAgent, records: list[dict], **kwargs):
        return client.post("/api/v1/sync/push", json=push_body(enrolled, records, **kwargs),
                           headers=enrolled.headers)

    return do
