"""The agent's local store: records, the outbox, the quarantine and sync bookkeeping (DESIGN §5).

One SQLite file in WAL mode with ``synchronous=FULL``. Saving a record and appending it to
the outbox is one transaction; acknowledging a pushed batch is one transaction. Every method
is safe to call from several threads (the scheduler and the window) and from several processes
(``dealer-agent import`` while ``dealer-agent run`` syncs): writes take SQLite's write lock
with ``BEGIN IMMEDIATE`` and wait for it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.protocol import ItemResult, Outcome, checksum
from sync_agent import records
from sync_agent.records import Problem, RecordInvalid

DB_NAME = "agent.db"
STORE_VERSION = 1
ACKED = frozenset({Outcome.applied, Outcome.duplicate, Outcome.stale})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS records (
    record_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    business_key TEXT,
    version INTEGER NOT NULL,
    payload TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    acked_version INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_records_business_key
    ON records (kind, business_key) WHERE business_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_records_kind_updated ON records (kind, updated_at);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    epoch INTEGER NOT NULL,
    record_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    payload TEXT NOT NULL,
    enqueued_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT,
    version INTEGER,
    kind TEXT,
    payload TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    field TEXT,
    source TEXT NOT NULL,
    content_hash TEXT,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_quarantine_record ON quarantine (record_id);
CREATE TABLE IF NOT EXISTS pulled_changes (
    change_id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT,
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_pulled_kind ON pulled_changes (kind, change_id);
"""


class NotEnrolled(RuntimeError):
    """The store has no agent identity yet."""

    def __init__(self) -> None:
        super().__init__("This agent is not enrolled yet: run `dealer-agent enroll --portal URL"
                         " --code CODE` with a code from the portal.")


class NotFound(LookupError):
    """No record or quarantine entry with that id."""


@dataclass(frozen=True)
class Identity:
    agent_id: str
    token: str
    portal_url: str
    dealer_code: str
    epoch: int


@dataclass(frozen=True)
class SaveResult:
    record_id: str
    kind: str
    version: int
    created: bool
    changed: bool
    seq: int | None


@dataclass(frozen=True)
class LocalRecord:
    record_id: str
    kind: str
    business_key: str | None
    version: int
    acked_version: int | None
    updated_at: str
    payload: dict[str, Any]

    @property
    def synced(self) -> bool:
        return self.acked_version == self.version


@dataclass(frozen=True)
class OutboxEntry:
    seq: int
    epoch: int
    record_id: str
    version: int
    payload: str
    enqueued_at: float


@dataclass(frozen=True)
class QuarantineEntry:
    id: int
    record_id: str | None
    version: int | None
    kind: str | None
    payload: dict[str, Any]
    code: str
    message: str
    field: str | None
    source: str  # "portal" (rejected on push) or "import" (invalid in the imported file)
    at: str


@dataclass(frozen=True)
class AckSummary:
    acknowledged: int = 0
    rejected: int = 0
    ignored: int = 0


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Store:
    """The local SQLite store of one agent; see the module docstring."""

    def __init__(self, path: str | os.PathLike[str], *, clock=time.time) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._clock = clock
        self._lock = threading.RLock()
        self._depth = 0
        self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                     check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA busy_timeout=30000")
        with self.transaction():
            self._create_schema()
        os.chmod(self.path, 0o600)  # the token lives here

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str]) -> Store:
        return cls(Path(data_dir) / DB_NAME)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _create_schema(self) -> None:
        for statement in filter(str.strip, _SCHEMA.split(";")):
            self._conn.execute(statement)
        self._conn.execute(f"PRAGMA user_version={STORE_VERSION}")

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; nested calls become savepoints (so an import can batch saves)."""
        with self._lock:
            name = f"sp{self._depth}"
            self._conn.execute("BEGIN IMMEDIATE" if self._depth == 0 else f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield self._conn
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._conn.execute("ROLLBACK")
                else:
                    self._conn.execute(f"ROLLBACK TO {name}")
                    self._conn.execute(f"RELEASE {name}")
                raise
            self._depth -= 1
            self._conn.execute("COMMIT" if self._depth == 0 else f"RELEASE {name}")

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def _scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        rows = self._query(sql, params)
        return rows[0][0] if rows else None

    # -- meta and identity ----------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        value = self._scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return default if value is None else value

    def set_meta(self, **values: object) -> None:
        with self.transaction() as conn:
            for key, value in values.items():
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                             (key, None if value is None else str(value)))

    def identity(self) -> Identity | None:
        values = {r["key"]: r["value"] for r in self._query("SELECT key, value FROM meta")}
        if not values.get("token"):
            return None
        return Identity(values["agent_id"], values["token"], values["portal_url"],
                        values["dealer_code"], int(values["epoch"]))

    def require_identity(self) -> Identity:
        identity = self.identity()
        if identity is None:
            raise NotEnrolled()
        return identity

    def enroll(self, *, portal_url: str, agent_id: str, token: str, dealer_code: str,
               epoch: int) -> None:
        """Keep the identity the portal gave; pending entries move to the new identity."""
        with self.transaction() as conn:
            other = conn.execute("SELECT json_extract(payload, '$.dealer_code') FROM records"
                                 " WHERE json_extract(payload, '$.dealer_code') != ? LIMIT 1",
                                 (dealer_code,)).fetchone()
            if other:
                raise ValueError(
                    f"This data directory holds records of dealer {other[0]}, not {dealer_code}; "
                    "use a new --data-dir for another dealer.")
            self.set_meta(portal_url=portal_url.rstrip("/"), agent_id=agent_id, token=token,
                          dealer_code=dealer_code, halted=None, halted_message=None,
                          last_error=None, last_error_at=None)
            self.renumber_outbox(epoch)

    # -- records ----------------------------------------------------------------------------

    def validate(self, kind: str, fields: dict[str, Any], *, record_id: str | None = None):
        """Return the validated wire model of *fields* (raises RecordInvalid or NotEnrolled)."""
        return records.validate(kind, fields, record_id=record_id,
                                dealer_code=self.require_identity().dealer_code)

    def save_record(self, kind: str, fields: dict[str, Any], *, record_id: str | None = None,
                    imported: bool = False) -> SaveResult:
        """Validate and save a record with its outbox entry, in one transaction.

        A new record gets a fresh record_id; an existing one (by *record_id*, or by its
        business key) gets version + 1, unless nothing changed. *imported* records of kinds
        without a business key get a record_id derived from their content's natural key, so
        importing a file twice does not duplicate them. Raises RecordInvalid.
        """
        record_id = record_id or fields.get("record_id") or None
        record_id = str(record_id) if record_id else None
        with self.transaction() as conn:
            model = self.validate(kind, fields, record_id=record_id)
            if imported and record_id is None and (derived := records.import_record_id(model)):
                record_id = derived
                model = model.model_copy(update={"record_id": uuid.UUID(derived)})
            existing = self._existing(conn, model, record_id)
            content = records.content_of(model)
            digest = records.content_hash(content)
            if existing is not None and existing["content_hash"] == digest:
                return SaveResult(existing["record_id"], kind, existing["version"],
                                  created=False, changed=False, seq=None)
            update: dict[str, Any] = {"version": 1}
            if existing is not None:
                update = {"version": existing["version"] + 1,
                          "record_id": uuid.UUID(existing["record_id"])}
            wire = model.model_copy(update=update).model_dump(mode="json")
            seq = self._write(conn, wire, digest, existing is None)
            return SaveResult(wire["record_id"], kind, wire["version"], created=existing is None,
                              changed=True, seq=seq)

    def _existing(self, conn: sqlite3.Connection, model, record_id: str | None):
        key = records.business_key(model)
        by_key = (conn.execute("SELECT * FROM records WHERE kind = ? AND business_key = ?",
                               (model.kind, key)).fetchone() if key is not None else None)
        if record_id is None:
            return by_key
        by_id = conn.execute("SELECT * FROM records WHERE record_id = ?", (record_id,)).fetchone()
        if by_id is not None and by_id["kind"] != model.kind:
            raise RecordInvalid([Problem("kind", "kind_changed",
                                         f"Record {record_id} is a {by_id['kind']}, not a "
                                         f"{model.kind}; a record cannot change its kind.")])
        if by_key is not None and by_key["record_id"] != record_id:
            name = records.business_key_field(model.kind)
            raise RecordInvalid([Problem(name, "business_key_taken",
                                         f"{name} {key} already belongs to another {model.kind}.")])
        return by_id

    def _write(self, conn: sqlite3.Connection, wire: dict[str, Any], digest: str,
               created: bool) -> int:
        payload = json.dumps(wire, separators=(",", ":"))
        key = wire.get(records.business_key_field(wire["kind"]) or "", None)
        conn.execute(
            "INSERT INTO records (record_id, kind, business_key, version, payload, content_hash,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (record_id) DO UPDATE SET"
            " business_key = excluded.business_key, version = excluded.version,"
            " payload = excluded.payload, content_hash = excluded.content_hash,"
            " updated_at = excluded.updated_at",
            (wire["record_id"], wire["kind"], key, wire["version"], payload, digest,
             wire["updated_at"]))
        # a newer version supersedes what the portal rejected earlier
        conn.execute("DELETE FROM quarantine WHERE record_id = ? AND source = 'portal'",
                     (wire["record_id"],))
        return self._enqueue(conn, wire["record_id"], wire["version"], payload)

    def _enqueue(self, conn: sqlite3.Connection, record_id: str, version: int,
                 payload: str) -> int:
        meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('epoch', 'next_seq')"))
        seq, epoch = int(meta.get("next_seq") or 1), int(meta.get("epoch") or 1)
        conn.execute("INSERT INTO outbox (seq, epoch, record_id, version, payload, enqueued_at)"
                     " VALUES (?, ?, ?, ?, ?, ?)",
                     (seq, epoch, record_id, version, payload, self._clock()))
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_seq', ?)",
                     (str(seq + 1),))
        return seq

    def get_record(self, record_id: str) -> LocalRecord:
        rows = self._query("SELECT * FROM records WHERE record_id = ?", (record_id,))
        if not rows:
            raise NotFound(f"No local record {record_id}.")
        return _record(rows[0])

    def find_record(self, kind: str, business_key: str) -> LocalRecord | None:
        rows = self._query("SELECT * FROM records WHERE kind = ? AND business_key = ?",
                           (kind, business_key))
        return _record(rows[0]) if rows else None

    def list_records(self, kind: str | None = None, *, search: str = "", limit: int = 50,
                     offset: int = 0) -> list[LocalRecord]:
        """Records newest first, optionally of one kind and containing *search* anywhere."""
        where, params = self._record_filter(kind, search)
        rows = self._query(f"SELECT * FROM records {where} ORDER BY updated_at DESC, record_id"
                           " LIMIT ? OFFSET ?", [*params, limit, offset])
        return [_record(r) for r in rows]

    def count_records(self, kind: str | None = None, *, search: str = "") -> int:
        where, params = self._record_filter(kind, search)
        return self._scalar(f"SELECT count(*) FROM records {where}", params)

    @staticmethod
    def _record_filter(kind: str | None, search: str) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if kind:
            clauses.append("kind = ?")
            params.append(kind)
        if search:
            # payloads are ASCII JSON (Chinese is stored escaped): match either spelling
            forms = dict.fromkeys([search, json.dumps(search)[1:-1]])
            clauses.append("(" + " OR ".join(["payload LIKE ? ESCAPE '\\'"] * len(forms)) + ")")
            for form in forms:
                escaped = form.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                params.append(f"%{escaped}%")
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), params

    # -- outbox -------------------------------------------------------------------------------

    def pending_count(self) -> int:
        return self._scalar("SELECT count(*) FROM outbox")

    def oldest_pending_age(self) -> float | None:
        oldest = self._scalar("SELECT min(enqueued_at) FROM outbox")
        return None if oldest is None else max(0.0, self._clock() - oldest)

    def next_batch(self, max_records: int, max_bytes: int) -> list[OutboxEntry]:
        """The oldest pending entries, at most *max_records* and about *max_bytes* of payload."""
        rows = self._query("SELECT * FROM outbox ORDER BY seq LIMIT ?", (max_records,))
        batch, size = [], 0
        for row in rows:
            size += len(row["payload"]) + 32
            if batch and size > max_bytes:
                break
            batch.append(OutboxEntry(**dict(row)))
        return batch

    def apply_results(self, results: Iterable[ItemResult]) -> AckSummary:
        """Acknowledge or quarantine pushed entries from the portal's answer, in one transaction
        (a few statements per batch, not three per record)."""
        results = list(results)
        acknowledged = rejected = ignored = 0
        with self.transaction() as conn:
            sent = self._outbox_rows(conn, [r.seq for r in results])
            done, acked = [], []
            for result in results:
                row = sent.pop(result.seq, None)  # a seq answered twice is handled once
                if row is None or (result.record_id and result.record_id != row["record_id"]):
                    ignored += 1  # already handled, or not what we sent under that seq
                    continue
                done.append((result.seq,))
                if result.outcome in ACKED:
                    acked.append((row["version"], row["record_id"]))
                    acknowledged += 1
                else:
                    self._quarantine_rejected(conn, row, result)
                    rejected += 1
            conn.executemany("DELETE FROM outbox WHERE seq = ?", done)
            conn.executemany("UPDATE records SET acked_version = max(coalesce(acked_version, 0), ?)"
                             " WHERE record_id = ?", acked)
        return AckSummary(acknowledged, rejected, ignored)

    @staticmethod
    def _outbox_rows(conn: sqlite3.Connection, seqs: list[int]) -> dict[int, sqlite3.Row]:
        rows = {}
        for start in range(0, len(seqs), 500):  # within SQLite's limit of bound parameters
            chunk = seqs[start:start + 500]
            rows.update((row["seq"], row) for row in conn.execute(
                f"SELECT * FROM outbox WHERE seq IN ({', '.join('?' * len(chunk))})", chunk))
        return rows

    def _quarantine_rejected(self, conn: sqlite3.Connection, row: sqlite3.Row,
                             result: ItemResult) -> None:
        payload = json.loads(row["payload"])
        conn.execute(
            "INSERT INTO quarantine (record_id, version, kind, payload, code, message, field,"
            " source, at) VALUES (?, ?, ?, ?, ?, ?, ?, 'portal', ?)",
            (row["record_id"], row["version"], payload.get("kind"), row["payload"],
             result.code or "rejected", result.message or "The portal rejected this record.",
             result.field, _now_iso()))

    def renumber_outbox(self, epoch: int) -> int:
        """Start *epoch*: give every pending entry a fresh seq from 1, in one transaction."""
        with self.transaction() as conn:
            rows = conn.execute("SELECT * FROM outbox ORDER BY seq").fetchall()
            conn.execute("DELETE FROM outbox")
            for seq, row in enumerate(rows, start=1):
                conn.execute("INSERT INTO outbox (seq, epoch, record_id, version, payload,"
                             " enqueued_at) VALUES (?, ?, ?, ?, ?, ?)",
                             (seq, epoch, row["record_id"], row["version"], row["payload"],
                              row["enqueued_at"]))
            self.set_meta(epoch=epoch, next_seq=len(rows) + 1)
        return len(rows)

    def outbox(self, limit: int = 50, offset: int = 0) -> list[OutboxEntry]:
        rows = self._query("SELECT * FROM outbox ORDER BY seq LIMIT ? OFFSET ?", (limit, offset))
        return [OutboxEntry(**dict(r)) for r in rows]

    # -- quarantine -----------------------------------------------------------------------

    def quarantine_count(self) -> int:
        return self._scalar("SELECT count(*) FROM quarantine")

    def quarantine_list(self, limit: int = 50, offset: int = 0) -> list[QuarantineEntry]:
        rows = self._query("SELECT * FROM quarantine ORDER BY id LIMIT ? OFFSET ?", (limit, offset))
        return [_quarantined(r) for r in rows]

    def quarantine_get(self, entry_id: int) -> QuarantineEntry:
        rows = self._query("SELECT * FROM quarantine WHERE id = ?", (entry_id,))
        if not rows:
            raise NotFound(f"No quarantined record #{entry_id}; "
                           "see `dealer-agent quarantine list`.")
        return _quarantined(rows[0])

    def quarantine_invalid(self, kind: str | None, fields: dict[str, Any],
                           problems: list[Problem], *, source: str = "import") -> tuple[int, bool]:
        """Keep an invalid record (never drop it); returns (entry id, newly added)."""
        payload = json.dumps(fields, sort_keys=True, default=str)
        digest = records.content_hash({"kind": kind, "fields": json.loads(payload)})
        with self.transaction() as conn:
            found = conn.execute("SELECT id FROM quarantine WHERE content_hash = ?",
                                 (digest,)).fetchone()
            if found:
                return found["id"], False
            first = problems[0]
            message = "; ".join(f"{p.field}: {p.message}" if p.field else p.message
                                for p in problems)
            cursor = conn.execute(
                "INSERT INTO quarantine (record_id, version, kind, payload, code, message, field,"
                " source, content_hash, at) VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)",
                (fields.get("record_id"), kind, payload, first.code, message, first.field,
                 source, digest, _now_iso()))
            return cursor.lastrowid, True

    def quarantine_fix(self, entry_id: int, fields: dict[str, Any]) -> SaveResult:
        """Save corrected *fields* as a new version (validated); the entry leaves the quarantine."""
        with self.transaction() as conn:
            entry = self.quarantine_get(entry_id)
            result = self.save_record(entry.kind or fields.get("kind", ""), fields,
                                      record_id=entry.record_id,
                                      imported=entry.source == "import")
            if not result.changed and entry.source == "portal":
                # same content as the rejected version: send it again under a fresh seq
                self._requeue(conn, entry)
            conn.execute("DELETE FROM quarantine WHERE id = ?", (entry_id,))
            return result

    def quarantine_replay(self, entry_id: int) -> SaveResult:
        """Send the record again as it is (e.g. after the portal's data was corrected)."""
        entry = self.quarantine_get(entry_id)
        if entry.source != "portal":
            return self.quarantine_fix(entry_id, entry.payload)
        with self.transaction() as conn:
            seq = self._requeue(conn, entry)
            conn.execute("DELETE FROM quarantine WHERE id = ?", (entry_id,))
        return SaveResult(entry.record_id, entry.kind, entry.version, created=False,
                          changed=False, seq=seq)

    def _requeue(self, conn: sqlite3.Connection, entry: QuarantineEntry) -> int:
        return self._enqueue(conn, entry.record_id, entry.version,
                             json.dumps(entry.payload, separators=(",", ":")))

    def quarantine_discard(self, entry_id: int) -> None:
        """Drop a quarantined record for good; a record the portal never had is removed locally."""
        with self.transaction() as conn:
            entry = self.quarantine_get(entry_id)
            conn.execute("DELETE FROM quarantine WHERE id = ?", (entry_id,))
            if entry.source == "portal":
                conn.execute("DELETE FROM records WHERE record_id = ? AND acked_version IS NULL"
                             " AND version = ? AND NOT EXISTS (SELECT 1 FROM outbox WHERE"
                             " outbox.record_id = records.record_id)",
                             (entry.record_id, entry.version))

    # -- pull -----------------------------------------------------------------------------------

    def pull_cursor(self) -> int:
        return int(self.get_meta("pull_cursor", "0"))

    def apply_pull_page(self, changes: list[dict[str, Any]], cursor: int) -> None:
        """Store a page of pulled changes and its cursor in one transaction."""
        with self.transaction() as conn:
            for change in changes:
                conn.execute(
                    "INSERT OR REPLACE INTO pulled_changes (change_id, kind, payload, created_at,"
                    " received_at) VALUES (?, ?, ?, ?, ?)",
                    (change["id"], change["kind"], json.dumps(change.get("payload", {})),
                     change.get("created_at"), _now_iso()))
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('pull_cursor', ?)",
                         (str(cursor),))

    def pulled_changes(self, kind: str | None = None, *, limit: int = 50,
                       offset: int = 0) -> list[dict[str, Any]]:
        """Pulled changes newest first, e.g. kind "order_status" for the offline order view."""
        where, params = ("WHERE kind = ?", [kind]) if kind else ("", [])
        rows = self._query(f"SELECT * FROM pulled_changes {where} ORDER BY change_id DESC"
                           " LIMIT ? OFFSET ?", [*params, limit, offset])
        return [_change(r) for r in rows]

    def latest_pulled(self, kind: str, key: str) -> list[dict[str, Any]]:
        """The newest change of *kind* per value of payload field *key* (e.g. one per order)."""
        rows = self._query(
            "SELECT * FROM pulled_changes WHERE change_id IN (SELECT max(change_id) FROM"
            " pulled_changes WHERE kind = ? GROUP BY json_extract(payload, '$.' || ?))"
            " ORDER BY change_id DESC", (kind, key))
        return [_change(r) for r in rows]

    # -- reconciliation -------------------------------------------------------------------------

    def acked_summary(self) -> dict[str, dict[str, Any]]:
        """Per kind, the count and checksum of the latest acknowledged version of each record."""
        pairs: dict[str, list[tuple[str, int]]] = {}
        for row in self._query("SELECT kind, record_id, acked_version FROM records"
                               " WHERE acked_version IS NOT NULL"):
            pairs.setdefault(row["kind"], []).append((row["record_id"], row["acked_version"]))
        return {kind: {"count": len(p), "checksum": checksum(p)} for kind, p in pairs.items()}


def _record(row: sqlite3.Row) -> LocalRecord:
    return LocalRecord(row["record_id"], row["kind"], row["business_key"], row["version"],
                       row["acked_version"], row["updated_at"], json.loads(row["payload"]))


def _quarantined(row: sqlite3.Row) -> QuarantineEntry:
    return QuarantineEntry(row["id"], row["record_id"], row["version"], row["kind"],
                           json.loads(row["payload"]), row["code"], row["message"], row["field"],
                           row["source"], row["at"])


def _change(row: sqlite3.Row) -> dict[str, Any]:
    return {"id": row["change_id"], "kind": row["kind"], "payload": json.loads(row["payload"]),
            "created_at": row["created_at"]}


__all__ = ["Identity", "LocalRecord", "NotEnrolled", "NotFound", "OutboxEntry", "QuarantineEntry",
           "RecordInvalid", "SaveResult", "Store"]
