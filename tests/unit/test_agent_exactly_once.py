"""Property: whatever interleaving of saves, edits, lost answers, failures, resends and restarts,
every record ends at the portal exactly once, at its latest version, and the outbox is empty."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync_agent.client import TransientError
from sync_agent.coordinator import Coordinator
from sync_agent.store import Store
from tests.unit.agent_fakes import FakePortal, enrolled_store, lead, sale

STATUSES = ("open", "contacted", "appointment", "won", "lost")
operations = st.one_of(
    st.tuples(st.just("new_lead"), st.integers(0, 10**6)),
    st.tuples(st.just("sale"), st.integers(0, 3), st.integers(1, 5)),  # business key: may edit
    st.tuples(st.just("edit"), st.integers(0, 50), st.sampled_from(STATUSES)),
    st.tuples(st.just("sync")),
    st.tuples(st.just("lose_answer")),
    st.tuples(st.just("portal_down")),
    st.tuples(st.just("crash_after_send")),
    st.tuples(st.just("restart")),
)


class Agent:
    """An agent process that can be restarted on the same data directory."""

    def __init__(self, path: Path, portal: FakePortal) -> None:
        self.path, self.portal = path, portal
        self.store = enrolled_store(path)
        self.coordinator = self._coordinator()
        self.leads: list[str] = []

    def _coordinator(self) -> Coordinator:
        return Coordinator(self.store, client_factory=lambda identity: self.portal,
                           batch_records=3)

    def do(self, op: tuple) -> None:
        getattr(self, op[0])(*op[1:])

    def new_lead(self, n: int) -> None:
        self.leads.append(self.store.save_record("lead", lead(f"客户{n}")).record_id)

    def sale(self, number: int, price: int) -> None:
        self.store.save_record("sale", sale(f"S-{number}", price=str(price)))

    def edit(self, index: int, status: str) -> None:
        if self.leads:
            record_id = self.leads[index % len(self.leads)]
            fields = self.store.get_record(record_id).payload
            self.store.save_record("lead", {**fields, "status": status}, record_id=record_id)

    def sync(self) -> None:
        self.coordinator.sync(force=True)

    def lose_answer(self) -> None:
        self.portal.lose_next = 1  # the portal applies the next batch, its answer is lost
        self.sync()

    def portal_down(self) -> None:
        self.portal.fail_next.append(TransientError("connection refused"))
        self.sync()

    def crash_after_send(self) -> None:
        batch = self.store.next_batch(3, 1 << 20)
        self.portal.push(self.coordinator._push_body(batch))  # sent and applied ...
        self.restart()  # ... and the process dies before applying the answer

    def restart(self) -> None:
        self.store.close()
        self.store = Store.open(self.path)
        self.coordinator = self._coordinator()


def _scratch() -> str | None:
    return "/dev/shm" if Path("/dev/shm").is_dir() else None  # fsync-free, so examples are fast


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, max_size=30))
def test_every_record_reaches_the_portal_exactly_once_at_its_latest_version(ops):
    portal = FakePortal()
    with tempfile.TemporaryDirectory(dir=_scratch()) as directory:
        agent = Agent(Path(directory), portal)
        for op in ops:
            agent.do(op)
        for _ in range(20):  # the network is back: drain
            if agent.coordinator.sync(force=True).ok and not agent.store.pending_count():
                break
        local = {r.record_id: r.payload for r in agent.store.list_records(limit=10**6)}
        assert agent.store.pending_count() == 0
        assert portal.payloads == local  # every record, at its latest version and content
        assert set(portal.applied.values()) <= {1}  # no version applied twice
        assert agent.store.acked_summary() == portal.verify()
        agent.store.close()
