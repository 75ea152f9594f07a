"""The sync cycle: push until drained, pull, heartbeat — owned by one object.

Like Home Assistant's update coordinator, :class:`Coordinator` remembers the last success and
the last error, backs off on trouble, and logs an outage once and its recovery once rather than
on every tick. The scheduler, the CLI and the window all drive it through ``sync()``,
``request_sync()`` and ``status()``.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from common.protocol import (
    MAX_BATCH_BYTES,
    MAX_BATCH_RECORDS,
    SCHEMA_VERSION,
    Heartbeat,
    ItemResult,
    Outcome,
    PushResponse,
)
from sync_agent import __version__
from sync_agent.client import (
    AuthError,
    Client,
    EpochConflict,
    RequestRejected,
    SyncError,
    TooLarge,
    TransientError,
    UpdateRequired,
)
from sync_agent.store import Identity, SaveResult, Store

log = logging.getLogger("sync_agent")
PULL_LIMIT = 200
# Leave room for the envelope and the JSON of each item around the stored payloads.
BATCH_BYTES = MAX_BATCH_BYTES - 64 * 1024


class Backoff:
    """Exponential backoff with full jitter: a random delay in [0, min(cap, base * 2**n))."""

    def __init__(self, base: float = 1.0, cap: float = 300.0,
                 rng: random.Random | None = None) -> None:
        self.base, self.cap, self.failures = base, cap, 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        self.failures += 1
        return self._rng.uniform(0, min(self.cap, self.base * 2 ** min(self.failures - 1, 30)))

    def reset(self) -> None:
        self.failures = 0


@dataclass(frozen=True)
class SyncReport:
    """What one call of ``sync()`` did."""

    ok: bool
    skipped: str | None = None  # why nothing was attempted
    pushed: int = 0
    acknowledged: int = 0
    rejected: int = 0
    pulled: int = 0
    error: str | None = None


@dataclass(frozen=True)
class AgentStatus:
    """Everything the CLI and the window show at a glance."""

    enrolled: bool
    state: str  # not_enrolled | never_synced | online | offline | stopped
    online: bool | None
    syncing: bool
    pending_count: int
    oldest_pending_age_s: float | None
    quarantine_count: int
    last_success: str | None
    last_error: str | None
    last_error_at: str | None
    stopped_reason: str | None
    next_retry_in_s: float | None
    epoch: int | None
    agent_id: str | None
    dealer_code: str | None
    portal: str | None
    agent_version: str = __version__

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def read_status(store: Store, *, syncing: bool = False,
                next_retry_in_s: float | None = None) -> AgentStatus:
    """The status as the store remembers it (works without a running coordinator)."""
    identity = store.identity()
    meta = {k: store.get_meta(k) for k in ("last_success", "last_error", "last_error_at",
                                             "online", "halted_message")}
    online = None if meta["online"] is None else meta["online"] == "1"
    state = ("not_enrolled" if identity is None else "stopped" if meta["halted_message"]
             else "never_synced" if online is None else "online" if online else "offline")
    return AgentStatus(
        enrolled=identity is not None, state=state, online=online, syncing=syncing,
        pending_count=store.pending_count(), oldest_pending_age_s=store.oldest_pending_age(),
        quarantine_count=store.quarantine_count(), last_success=meta["last_success"],
        last_error=meta["last_error"], last_error_at=meta["last_error_at"],
        stopped_reason=meta["halted_message"], next_retry_in_s=next_retry_in_s,
        epoch=identity.epoch if identity else None,
        agent_id=identity.agent_id if identity else None,
        dealer_code=identity.dealer_code if identity else None,
        portal=identity.portal_url if identity else None)


@dataclass
class _Drain:
    """State of one drain: the batch size in use and whether a new epoch was started."""

    limit: int
    renumbered: bool = False


class Coordinator:
    """Owns the sync cycle of one store; thread-safe, one cycle at a time."""

    def __init__(self, store: Store, *, client_factory: Callable[[Identity], Client] | None = None,
                 backoff: Backoff | None = None, clock: Callable[[], float] = time.monotonic,
                 batch_records: int = MAX_BATCH_RECORDS) -> None:
        self.store = store
        self._client_factory = client_factory or (lambda i: Client(i.portal_url, i.token))
        self._client: Client | None = None
        self._client_identity: Identity | None = None
        self.backoff = backoff or Backoff()
        self._clock = clock
        self.batch_records = batch_records
        self._cycle = threading.Lock()
        self._wake = threading.Event()
        self._next_attempt = 0.0
        self._online: bool | None = None
        self.wakeup: Callable[[float], None] | None = None  # set by the scheduler
        if store.get_meta("halted") == "unsupported_schema" and \
                store.get_meta("halted_version") != __version__:
            self.clear_stop()  # the agent was updated since the portal asked for it

    # -- what the window and the CLI call ------------------------------------------------------

    def save_record(self, kind: str, fields: dict[str, Any], *,
                    record_id: str | None = None) -> SaveResult:
        """Save locally (works offline) and ask for an immediate push."""
        result = self.store.save_record(kind, fields, record_id=record_id)
        if result.changed:
            self.request_sync()
        return result

    def request_sync(self) -> None:
        """Push soon: now if idle, or right after the cycle that is running."""
        self._wake.set()
        if self.wakeup is not None:
            self.wakeup(0)

    def status(self) -> AgentStatus:
        return read_status(self.store, syncing=self.syncing,
                           next_retry_in_s=self.next_retry_in())

    @property
    def syncing(self) -> bool:
        return self._cycle.locked()

    @property
    def wake_pending(self) -> bool:
        """A save asked for a push that the cycle in progress may have missed."""
        return self._wake.is_set() and self.store.pending_count() > 0

    def next_retry_in(self) -> float | None:
        if self.backoff.failures == 0:
            return None
        return max(0.0, self._next_attempt - self._clock())

    @property
    def stopped(self) -> bool:
        return bool(self.store.get_meta("halted_message"))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Coordinator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the cycle ------------------------------------------------------------------------------

    def sync(self, *, force: bool = False) -> SyncReport:
        """Run one cycle unless backing off or stopped; *force* (a person asked) ignores both."""
        identity = self.store.identity()
        if identity is None:
            return SyncReport(ok=False, skipped="not_enrolled")
        if not force and self.stopped:
            return SyncReport(ok=False, skipped="stopped")
        if not force and self._clock() < self._next_attempt:
            return SyncReport(ok=False, skipped="backing_off")
        if not self._cycle.acquire(blocking=force):
            return SyncReport(ok=False, skipped="busy")
        try:
            return self._run(identity)
        finally:
            self._cycle.release()

    def _run(self, identity: Identity) -> SyncReport:
        counts = {"pushed": 0, "acknowledged": 0, "rejected": 0, "pulled": 0}
        try:
            client = self._client_for(identity)
            for _round in range(10):  # another round only if saves arrived meanwhile
                self._wake.clear()
                self._push_until_drained(client, counts)
                counts["pulled"] += self._pull(client)
                if not (self._wake.is_set() and self.store.pending_count()):
                    break
        except SyncError as error:
            return self._failed(error, counts)
        self._succeeded()
        return SyncReport(ok=True, **counts)

    def _client_for(self, identity: Identity) -> Client:
        if self._client is None or self._client_identity != identity:
            if self._client is not None:
                self._client.close()
            self._client, self._client_identity = self._client_factory(identity), identity
        return self._client

    def _push_until_drained(self, client: Client, counts: dict[str, int]) -> None:
        """Push batches back to back while a backlog remains; an empty push is the heartbeat."""
        drain = _Drain(limit=self.batch_records)
        while True:
            batch = self.store.next_batch(drain.limit, BATCH_BYTES)
            response = self._push_batch(client, batch, drain)
            if response is None:
                continue  # new epoch or smaller batch: push again at once
            summary = self.store.apply_results(response.results)
            self.backoff.reset()  # the portal answered: a later failure starts backing off anew
            counts["pushed"] += len(batch)
            counts["acknowledged"] += summary.acknowledged
            counts["rejected"] += summary.rejected
            if not batch or not self.store.pending_count():
                return
            if summary.acknowledged + summary.rejected == 0:
                raise RequestRejected(f"The portal answered a batch of {len(batch)} records "
                                      "without acknowledging any of them.")

    def _push_batch(self, client: Client, batch: list, drain: _Drain) -> PushResponse | None:
        """Push one batch; None when it must be pushed again (renumbered, or split)."""
        try:
            return client.push(self._push_body(batch))
        except EpochConflict as error:
            if drain.renumbered:
                raise RequestRejected("The portal still reports a sequence conflict after a "
                                      f"new epoch: {error.message}") from None
            self._start_new_epoch(client, error)
            drain.renumbered = True
        except TooLarge:
            if len(batch) <= 1:
                self._quarantine_oversized(batch)
            drain.limit = max(1, len(batch) // 2)
        return None

    def _push_body(self, batch: list) -> bytes:
        """The push request's JSON. Outbox payloads are ASCII JSON, validated when saved: they
        go in as stored, not decoded and encoded again (half the agent's CPU in a catch-up)."""
        identity = self.store.require_identity()
        heartbeat = Heartbeat(agent_version=__version__, pending_count=self.store.pending_count(),
                              oldest_pending_age_s=self.store.oldest_pending_age(),
                              quarantine_count=self.store.quarantine_count())
        records = ",".join(f'{{"seq":{e.seq},"record":{e.payload}}}' for e in batch)
        return (f'{{"agent_id":"{identity.agent_id}","epoch":{int(identity.epoch)},'
                f'"schema_version":{SCHEMA_VERSION},"heartbeat":{heartbeat.model_dump_json()},'
                f'"records":[{records}]}}').encode("ascii")

    def _start_new_epoch(self, client: Client, error: EpochConflict) -> None:
        epoch = client.new_epoch()
        moved = self.store.renumber_outbox(epoch)
        log.warning("The portal reports that this agent's sequence went backwards (%s): the local "
                    "store was restored or copied. Continuing in epoch %d; %d pending records "
                    "renumbered and sent again.", error.message, epoch, moved)

    def _quarantine_oversized(self, batch: list) -> None:
        entry = batch[0]
        result = ItemResult(seq=entry.seq, record_id=entry.record_id, outcome=Outcome.rejected,
                            code="too_large", message="This record alone is larger than the "
                            "portal accepts; shorten its text fields and replay it.")
        self.store.apply_results([result])

    def _pull(self, client: Client) -> int:
        """Apply pull pages until the portal has no more; the cursor moves with each page."""
        pulled, cursor = 0, self.store.pull_cursor()
        while True:
            page = client.pull(cursor, PULL_LIMIT)
            self.store.apply_pull_page(page.changes, page.cursor)
            pulled += len(page.changes)
            if not page.more or page.cursor == cursor:
                return pulled
            cursor = page.cursor

    # -- outcome bookkeeping ---------------------------------------------------------------------

    def _succeeded(self) -> None:
        if self._online is False:
            log.info("The portal is reachable again; sync resumed after %d failed attempts.",
                     self.backoff.failures)
        self._online = True
        self.backoff.reset()
        self._next_attempt = 0.0
        self.store.set_meta(online=1, last_success=_now_iso(), last_error=None,
                            last_error_at=None, halted=None, halted_message=None)

    def _failed(self, error: SyncError, counts: dict[str, int]) -> SyncReport:
        if isinstance(error, AuthError | UpdateRequired):
            log.error("Syncing stopped: %s", error.message)
            self.store.set_meta(online=0, last_error=error.message, last_error_at=_now_iso(),
                                halted=error.code or type(error).__name__,
                                halted_message=error.message, halted_version=__version__)
            return SyncReport(ok=False, error=error.message, **counts)
        delay = self._delay_after(error)
        self._next_attempt = self._clock() + delay
        if self._online is not False:
            log.warning("Sync failed: %s Retrying in the background (backoff up to %d s); "
                        "records stay queued.", error.message, self.backoff.cap)
        else:
            log.debug("Sync still failing (attempt %d): %s", self.backoff.failures, error.message)
        self._online = False
        self.store.set_meta(online=0, last_error=error.message, last_error_at=_now_iso())
        if self.wakeup is not None and isinstance(error, TransientError):
            self.wakeup(delay)
        return SyncReport(ok=False, error=error.message, **counts)

    def _delay_after(self, error: SyncError) -> float:
        if isinstance(error, TransientError):
            delay = self.backoff.next_delay()
            return max(delay, min(error.retry_after or 0, self.backoff.cap))
        # a refusal retrying cannot fix: look again only after the longest backoff
        self.backoff.failures += 1
        return self.backoff.cap

    def clear_stop(self) -> None:
        """Forget a stop (after re-enrolment or an update), so syncing resumes."""
        self.store.set_meta(halted=None, halted_message=None)

