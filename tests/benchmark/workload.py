"""What the measurements push: fresh benchmark dealers, their enrolled agents and their records.

The records come from the demo generator (other seeds than the dataset's), re-addressed to the
benchmark dealers; business keys get the source dealer's index so they stay unique per dealer.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, select

from common.schemas import BUSINESS_KEYS
from portal.demo import generator
from portal.models import Dealer, Region
from portal.services import agents
from portal.tenancy import Scope, set_scope
from sync_agent.client import Client


@dataclass(frozen=True)
class Enrolled:
    dealer_id: int
    dealer_code: str
    agent_id: str
    token: str
    epoch: int


def add_dealers(engine: Engine, prefix: str, count: int) -> list[tuple[int, str]]:
    """Create *count* empty dealers ``<prefix>001``…; returns (id, code) pairs."""
    with set_scope(Session(engine), Scope.everything("benchmark")) as session:
        region = session.exec(select(Region).order_by(Region.id)).first()
        rows = [Dealer(code=f"{prefix}{i:03d}", name_zh=f"压测{prefix}{i}",
                       name_en=f"Bench {prefix}{i}", region_id=region.id, city_zh="上海",
                       city_en="Shanghai") for i in range(1, count + 1)]
        session.add_all(rows)
        session.commit()
        return [(row.id, row.code) for row in rows]


def enroll(engine: Engine, base_url: str, dealers: list[tuple[int, str]]) -> list[Enrolled]:
    """Issue a code per dealer and enrol an agent with it over HTTP (the real protocol)."""
    enrolled = []
    for dealer_id, code in dealers:
        with set_scope(Session(engine), Scope.everything("benchmark")) as session:
            dealer = session.get(Dealer, dealer_id)
            issued = agents.issue_enrollment(session=session, dealer=dealer, hours=1,
                                             actor="benchmark")
            session.commit()
        client = Client(base_url)
        try:
            answer = client.enroll(issued.code, agent_name=f"bench {code}")
        finally:
            client.close()
        enrolled.append(Enrolled(dealer_id, code, str(answer.agent_id), answer.token,
                                 answer.epoch))
    return enrolled


def records_for(dealer_codes: list[str], total: int, *, seed: int,
                today: dt.date) -> list[list[dict]]:
    """About *total* generated records split over the dealers, each list in generation order."""
    streams: list[list[dict]] = [[] for _ in dealer_codes]
    per_dealer = -(-total // len(dealer_codes))
    sources = _source_records(seed, today)
    for target, stream in enumerate(streams):
        while len(stream) < per_dealer:
            index, record = next(sources)
            stream.append(readdress(record, dealer_codes[target], index))
    return streams


def _source_records(seed: int, today: dt.date) -> Iterator[tuple[int, dict]]:
    config = generator.DemoConfig(seed=seed, dealers=1000, today=today, volume=1.0)
    for data in generator.generate(config):
        for records in data.records.values():
            for record in records:
                yield data.dealer.index, record


def readdress(record: dict, dealer_code: str, source: int) -> dict:
    """The record as *dealer_code*'s, its business key prefixed with the source dealer."""
    record = {**record, "dealer_code": dealer_code}
    key = BUSINESS_KEYS[record["kind"]]
    if key:
        record[key] = f"{source}-{record[key]}"
    return record


def _default(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def wire(record: dict) -> dict:
    """The record as JSON-ready values, as an agent sends it."""
    return json.loads(json.dumps(record, default=_default))


def push_body(agent: Enrolled, records: list[dict], first_seq: int, pending: int) -> bytes:
    """The JSON body of one push of *records*, numbered from *first_seq*."""
    body = {"agent_id": agent.agent_id, "epoch": agent.epoch, "schema_version": 1,
            "heartbeat": {"agent_version": "bench", "pending_count": pending,
                          "oldest_pending_age_s": 1.0, "quarantine_count": 0},
            "records": [{"seq": first_seq + i, "record": r} for i, r in enumerate(records)]}
    return json.dumps(body, default=_default, separators=(",", ":")).encode()
