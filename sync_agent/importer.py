"""Import records from CSV or JSON Lines written in the canonical field names (DESIGN §4).

The pipeline is ``read_* -> rows (line, dict) -> import_rows(store, rows)``; a header-mapping
layer (DMS exports, XLSX) only has to produce rows with canonical names and hand them to
:func:`import_rows`. In CSV, nested fields are dotted columns (``customer.name``,
``vehicle.vin``); repair-order parts are either a ``parts`` column holding a JSON list or one
part per row in ``part.part_number`` / ``part.name`` / ``part.qty`` columns, rows of the same
``ro_number`` forming one order. Empty cells count as absent. Bad rows go to the local
quarantine with their reasons; nothing is dropped. Importing the same file twice changes
nothing: records are matched by business key (deal / RO number), by ``record_id`` if the file
has one, or else by a natural key per kind.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sync_agent import records
from sync_agent.records import Problem, RecordInvalid
from sync_agent.store import Store

Row = tuple[int, dict[str, Any]]  # (line number in the file, fields)
CHUNK = 200
_JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}


@dataclass(frozen=True)
class RowResult:
    line: int
    status: str  # created | updated | unchanged | superseded | quarantined | already_quarantined
    kind: str | None = None
    record_id: str | None = None
    problems: tuple[Problem, ...] = ()
    quarantine_id: int | None = None


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for row in self.rows:
            totals[row.status] = totals.get(row.status, 0) + 1
        return totals

    @property
    def quarantined(self) -> list[RowResult]:
        return [r for r in self.rows if r.status in ("quarantined", "already_quarantined")]


class UnreadableRow(RecordInvalid):
    pass


# -- reading ---------------------------------------------------------------------------------


def read_file(path: str | Path, *, fmt: str | None = None) -> list[Row]:
    """Rows of a CSV (``fmt="csv"``) or JSON Lines (``"jsonl"``) file; by suffix if not given."""
    path = Path(path)
    fmt = fmt or ("jsonl" if path.suffix.lower() in _JSONL_SUFFIXES else "csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        text = handle.read()
    return read_jsonl(text) if fmt == "jsonl" else read_csv(text)


def read_csv(text: str) -> list[Row]:
    reader = csv.DictReader(io.StringIO(text))
    return [(reader.line_num, unflatten(row)) for row in reader]


def read_jsonl(text: str) -> list[Row]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as error:
            data = {"__unreadable__": f"Line {number} is not valid JSON ({error.msg}).",
                    "raw": line}
        if not isinstance(data, dict):
            data = {"__unreadable__": f"Line {number} is not a JSON object.", "raw": line}
        rows.append((number, unflatten(data)))
    return rows


def unflatten(row: dict[str, Any]) -> dict[str, Any]:
    """Nest dotted keys (``customer.name``), drop empty cells, decode a JSON ``parts`` cell."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key is None or value is None or (isinstance(value, str) and not value.strip()):
            continue  # csv puts surplus cells under None; empty means absent
        target, *path = key.strip().split(".")
        node = out
        for part in path:
            node = node.setdefault(target, {})
            if not isinstance(node, dict):
                break
            target = part
        else:
            node[target] = value
    if isinstance(out.get("parts"), str):
        out["parts"] = _json_parts(out["parts"])
    return out


def _json_parts(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text  # validation then says parts must be a list


# -- importing -------------------------------------------------------------------------------


def import_file(store: Store, path: str | Path, *, kind: str | None = None,
                fmt: str | None = None, progress: Callable[[int, int], None] | None = None
                ) -> ImportReport:
    return import_rows(store, read_file(path, fmt=fmt), kind=kind, progress=progress)


def import_rows(store: Store, rows: Iterable[Row], *, kind: str | None = None,
                progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Save every row (canonical names, nested or dotted) and report on each one."""
    store.require_identity()
    rows = group_part_lines([(line, unflatten(data)) for line, data in rows])
    report, latest = ImportReport(), {}
    for line, data in rows:  # the last row of a record wins; earlier ones are superseded
        key = _identity(store, data, kind) or ("row", line)
        if key in latest:
            report.rows.append(RowResult(latest[key][0], "superseded", key[0]))
        latest[key] = (line, data)
    todo = sorted(latest.values(), key=lambda item: item[0])
    for start in range(0, len(todo), CHUNK):
        with store.transaction():
            report.rows.extend(_import_one(store, line, data, kind)
                               for line, data in todo[start:start + CHUNK])
        if progress:
            progress(min(start + CHUNK, len(todo)), len(todo))
    report.rows.sort(key=lambda r: r.line)
    return report


def _identity(store: Store, data: dict[str, Any], default_kind: str | None):
    """What record a row is about, so duplicates in one file collapse; None if invalid."""
    kind = data.get("kind") or default_kind
    try:
        model = store.validate(kind or "", data)
    except RecordInvalid:
        return None
    key = (data.get("record_id") and str(data["record_id"])) or records.business_key(model) \
        or records.import_record_id(model)
    return (kind, key) if key else None


def _import_one(store: Store, line: int, data: dict[str, Any],
                default_kind: str | None) -> RowResult:
    kind = data.get("kind") or default_kind
    try:
        _check_readable(data, kind)
        result = store.save_record(kind, data, imported=True)
    except RecordInvalid as error:
        entry_id, added = store.quarantine_invalid(kind, data, error.problems)
        return RowResult(line, "quarantined" if added else "already_quarantined", kind,
                         data.get("record_id"), tuple(error.problems), entry_id)
    status = "created" if result.created else "updated" if result.changed else "unchanged"
    return RowResult(line, status, kind, result.record_id)


def _check_readable(data: dict[str, Any], kind: str | None) -> None:
    if "__unreadable__" in data:
        raise UnreadableRow([Problem("", "unreadable", data["__unreadable__"])])
    if not kind:
        raise RecordInvalid([Problem("kind", "kind_missing", "The row does not say what kind of "
                                     "record it is: add a 'kind' column or choose the kind.")])


def group_part_lines(rows: list[Row]) -> list[Row]:
    """Merge repair-order rows that carry one ``part`` each into one order per ``ro_number``."""
    grouped: list[Row] = []
    orders: dict[str, dict[str, Any]] = {}
    for line, data in rows:
        part, number = data.get("part"), str(data.get("ro_number", "")).strip()
        if not isinstance(part, dict) or not number:
            grouped.append((line, data))
            continue
        data = {k: v for k, v in data.items() if k != "part"}
        if number not in orders:
            orders[number] = {**data, "parts": list(data.get("parts") or [])}
            grouped.append((line, orders[number]))
        orders[number]["parts"].append(part)
    return grouped
