"""What every CRM list shares: filters from query arguments, pages, and streaming CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from portal.pagination import parse_page

MAX_PAGE_SIZE = 200
CSV_BATCH = 500


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def page_number(args: Mapping[str, str]) -> int:
    return parse_page(args.get("page"))


def paginate(session: Session, stmt, *, page: int, per_page: int, total: int | None = None
             ) -> Page:
    """Run *stmt* for one page; the total counts the same filtered rows (tenancy included)
    unless the caller already knows it."""
    per_page = min(max(per_page, 1), MAX_PAGE_SIZE)
    if total is None:
        total = session.execute(
            select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    items = [row[0] if len(row) == 1 else row for row in rows]
    return Page(items, total, page, per_page)


def like(term: str) -> str:
    """A LIKE pattern matching *term* anywhere, with LIKE's wildcards taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _safe_cell(value: object) -> object:
    """Neutralise spreadsheet formulas in text cells (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """CSV text in chunks, starting with a UTF-8 BOM so Excel reads Chinese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield "\ufeff" + _drain(buffer)
    for n, row in enumerate(rows, start=1):
        writer.writerow([_safe_cell(v) for v in row])
        if n % CSV_BATCH == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def stream_rows(session: Session, stmt, to_row: Callable[[object], Iterable[object]]):
    """Yield the CSV cells of every row of *stmt*, fetched in batches (no page limit)."""
    result = session.execute(stmt.execution_options(yield_per=CSV_BATCH))
    for row in result:
        yield to_row(row[0] if len(row) == 1 else row)
