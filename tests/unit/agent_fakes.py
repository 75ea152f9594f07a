"""An in-memory portal that follows the sync contract's dedupe rules, for agent unit tests.

It stands in for the HTTP client (same methods as sync_agent.client.Client). Integration tests
use the real portal over loopback instead.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any

from common.protocol import ItemResult, Outcome, PullResponse, PushRequest, PushResponse, checksum
from sync_agent.client import EpochConflict, TransientError
from sync_agent.store import Store

DEALER = "SH001"
VIN = "LSGJA52U8CH123456"


def lead(name: str = "赵敏", **overrides: Any) -> dict[str, Any]:
    return {"name": name, "phone": "13812345678", "purchase_timeframe": "within_3_months",
            "source": "walk_in", **overrides}


def sale(deal_number: str = "S-1", **overrides: Any) -> dict[str, Any]:
    return {"deal_number": deal_number, "sale_date": "2024-02-29",
            "customer": {"name": "张伟", "phone": "13812345678", "postcode": "200000"},
            "vehicle": {"vin": VIN, "brand": "Buick", "model": "GL8", "model_year": 2024},
            "salesperson": "李娜", "price": "268000.00", **overrides}


def enrolled_store(path, **kwargs) -> Store:
    store = Store.open(path, **kwargs) if kwargs else Store.open(path)
    if store.identity() is None:
        store.enroll(portal_url="http://127.0.0.1:9", agent_id=str(uuid.uuid4()), token="t0k",
                     dealer_code=DEALER, epoch=1)
    return store


class FakePortal:
    """Dedupes on (record_id, version), answers stale/rejected, tracks epochs and sequences."""

    def __init__(self) -> None:
        self.held: dict[str, tuple[int, str]] = {}  # record_id -> (version, kind)
        self.applied: Counter[tuple[str, int]] = Counter()
        self.epoch, self.high_water = 1, 0
        self.fail_next: list[Exception] = []  # raised before applying
        self.lose_next = 0  # apply, then "lose" the response
        self.reject_names: set[str] = set()
        self.changes: list[dict[str, Any]] = []
        self.pushes: list[PushRequest] = []
        self.rejected_seqs: set[int] = set()
        self.payloads: dict[str, dict[str, Any]] = {}  # record_id -> latest record held

    # -- the Client interface --

    def push(self, body: bytes) -> PushResponse:
        request = PushRequest.model_validate_json(body)  # the body must follow the protocol
        self.pushes.append(request)
        if self.fail_next:
            raise self.fail_next.pop(0)
        if request.epoch != self.epoch:
            raise EpochConflict("epoch over", status=409, code="epoch_conflict")
        for item in request.records:  # like the portal: all or nothing
            self._check_regression(item.seq, item.record)
        results = [self._judge(item.seq, item.record) for item in request.records]
        if request.records:
            self.high_water = max(self.high_water, *(i.seq for i in request.records))
        if self.lose_next:
            self.lose_next -= 1
            raise TransientError("response lost")
        return PushResponse(results=results, server_time=dt.datetime.now(dt.UTC))

    def _check_regression(self, seq: int, record: dict[str, Any]) -> None:
        rid, version = record["record_id"], record["version"]
        if seq <= self.high_water and seq not in self.rejected_seqs \
                and self.held.get(rid, (0,))[0] < version:
            raise EpochConflict("sequence went backwards", status=409, code="sequence_regressed")

    def _judge(self, seq: int, record: dict[str, Any]) -> ItemResult:
        rid, version = record["record_id"], record["version"]
        if record.get("name") in self.reject_names:
            self.rejected_seqs.add(seq)
            return ItemResult(seq=seq, record_id=rid, outcome=Outcome.rejected,
                              code="bad_name", message="Name refused.", field="name")
        current = self.held.get(rid, (0,))[0]
        if (rid, version) in self.applied:
            outcome = Outcome.duplicate
        elif version < current:
            outcome = Outcome.stale
        else:
            self.applied[(rid, version)] += 1
            self.held[rid] = (version, record["kind"])
            self.payloads[rid] = record
            outcome = Outcome.applied
        return ItemResult(seq=seq, record_id=rid, outcome=outcome)

    def new_epoch(self) -> int:
        self.epoch += 1
        self.high_water = 0
        return self.epoch

    def pull(self, cursor: int, limit: int = 200) -> PullResponse:
        page = [c for c in self.changes if c["id"] > cursor][:limit]
        more = len([c for c in self.changes if c["id"] > cursor]) > limit
        return PullResponse(changes=page, cursor=page[-1]["id"] if page else cursor, more=more)

    def verify(self) -> dict[str, dict[str, Any]]:
        kinds: dict[str, list[tuple[str, int]]] = {}
        for rid, (version, kind) in self.held.items():
            kinds.setdefault(kind, []).append((rid, version))
        return {k: {"count": len(p), "checksum": checksum(p)} for k, p in kinds.items()}

    def close(self) -> None:
        pass
