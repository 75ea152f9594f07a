"""The one tenancy layer: every ORM query on a dealer-scoped table is filtered here.

A session carries a :class:`Scope` in ``session.info["scope"]``. A listener adds
``dealer_id IN (...)`` to every SELECT, UPDATE and DELETE touching a
:class:`~portal.models.base.DealerScoped` table, and a flush check refuses to
write a row outside the scope. A session without a scope cannot touch those
tables at all (fail closed), so a forgotten filter is an error, not a leak.

One widening exists, for the end of the information islands (DESIGN §7): a read
marked with :func:`service_history` may return repair orders (and their parts)
done at *any* dealer, but only for VINs a dealer in scope sold or serviced. Every
other table, and every write, stays filtered on ``dealer_id`` as above.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import and_, column, event, exists, or_, select, union
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql.util import find_tables
from sqlalchemy.util import LRUCache

from portal.models.base import DealerScoped
from portal.models.records import RepairOrder, RepairPart, Sale

# execution option of reads that may see other dealers' repairs of vehicles known to the scope
SERVICE_HISTORY = "tenancy_service_history"
_HISTORY_MAPPERS = frozenset({RepairOrder, RepairPart})
# statement shape (cache key) -> whether it names a dealer-scoped table; bounded like SQLAlchemy's
_TOUCHES: LRUCache = LRUCache(2000)
# SELECTs built once and run many times, and (such a statement, dealer ids) -> its filtered form
_BUILT_ONCE: weakref.WeakSet = weakref.WeakSet()
_FILTERED: LRUCache = LRUCache(2000)


class TenancyError(RuntimeError):
    """A dealer-scoped table was used without a scope, or written outside it."""


@dataclass(frozen=True)
class Scope:
    """Which dealers a session may see; ``dealer_ids=None`` means all of them."""

    dealer_ids: frozenset[int] | None
    label: str = ""

    @classmethod
    def everything(cls, label: str = "system") -> Scope:
        return cls(None, label)

    @classmethod
    def dealers(cls, ids: Iterable[int], label: str = "") -> Scope:
        return cls(frozenset(ids), label)

    @property
    def is_global(self) -> bool:
        return self.dealer_ids is None

    def allows(self, dealer_id: int | None) -> bool:
        return self.dealer_ids is None or dealer_id in self.dealer_ids


def set_scope(session: Session, scope: Scope) -> Session:
    """Attach *scope* to *session* and return the session."""
    session.info["scope"] = scope
    return session


def get_scope(session: Session) -> Scope:
    scope = session.info.get("scope")
    if scope is None:
        raise TenancyError("dealer-scoped data used by a session without a tenancy scope")
    return scope


def _criteria(ids: tuple[int, ...]):
    def criterion(cls):
        # SQLAlchemy 2.1 first calls this with the DealerScoped mixin itself, which has no
        # dealer_id column, to analyse the closure; a bare column stands in for that call only.
        dealer_id = cls.dealer_id if hasattr(cls, "dealer_id") else column("dealer_id")
        if cls.__tenancy_shared_rows__:
            return or_(dealer_id.in_(ids), dealer_id.is_(None))
        return dealer_id.in_(ids)

    return criterion


def service_history(statement):
    """Mark a SELECT of RepairOrder/RepairPart as a service-history read.

    Rule (documented in the README): a dealer sees the full service history — repairs at any
    station, with date, mileage, work, parts and technician — of every VIN it sold or serviced
    itself; a region manager the same for the dealers of the region; HQ sees everything. Nothing
    else widens: the other dealer's sale, customer, contacts and complaints stay invisible, and a
    VIN the scope never sold or serviced returns no rows. The listener refuses the mark on any
    statement touching another dealer-scoped table, and on writes.
    """
    return statement.execution_options(**{SERVICE_HISTORY: True})


def built_once(statement):
    """Mark a SELECT built once (a module constant, its values bound at execution) and run on
    many requests: its filtered form is kept per scope.

    Adding the filter makes a new statement, and SQLAlchemy computes the cache key of a new
    statement afresh on every execution: for a small query that cost a third of its CPU. The kept
    form is found by the marked statement object itself (not by its shape) and the scope's ids,
    so it is only ever used for that statement in that scope. Statements derived from a marked
    one (``.where(...)``) are not marked.
    """
    _BUILT_ONCE.add(statement)
    return statement


def _known_vins(ids: tuple[int, ...]):
    """VINs sold or serviced by the dealers *ids* (Core tables: not re-filtered by the ORM)."""
    sale, ro = Sale.__table__, RepairOrder.__table__
    return union(
        select(sale.c.vin).where(sale.c.dealer_id.in_(ids)),
        select(ro.c.vin).where(ro.c.dealer_id.in_(ids)),
    )


def _history_options(ids: tuple[int, ...]) -> list:
    vins = _known_vins(ids)
    ro = RepairOrder.__table__.alias("history_ro")
    part_of_known = exists().where(and_(
        ro.c.dealer_id == RepairPart.dealer_id, ro.c.record_id == RepairPart.record_id,
        ro.c.vin.in_(vins)))
    return [
        with_loader_criteria(
            RepairOrder, or_(RepairOrder.dealer_id.in_(ids), RepairOrder.vin.in_(vins)),
            include_aliases=True),
        with_loader_criteria(
            RepairPart, or_(RepairPart.dealer_id.in_(ids), part_of_known), include_aliases=True),
    ]


def _wants_history(state: ORMExecuteState) -> bool:
    if not state.execution_options.get(SERVICE_HISTORY):
        return False
    touched = {m.class_ for m in state.all_mappers if issubclass(m.class_, DealerScoped)}
    if not state.is_select or not touched <= _HISTORY_MAPPERS:
        raise TenancyError("service-history reads are for SELECTs of repair orders and parts only")
    return True


def _scoped_tables() -> set[str]:
    found, todo = set(), [DealerScoped]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if "__table__" in cls.__dict__:
            found.add(cls.__table__.name)
    return found


def _touches_scoped(state: ORMExecuteState) -> bool:
    """True when the statement reads or writes a dealer-scoped table anywhere.

    Finding the tables costs more than running a small query, so the answer is kept per
    statement shape: SQLAlchemy's cache key (which it computes for its own compiled cache
    anyway) names every table of the statement, subqueries included. A statement without a
    key is examined every time.
    """
    key = state.statement._generate_cache_key()  # memoized on the statement
    if key is None:
        return _names_scoped_table(state)
    touches = _TOUCHES.get(key.key)
    if touches is None:
        touches = _TOUCHES[key.key] = _names_scoped_table(state)
    return touches


def _names_scoped_table(state: ORMExecuteState) -> bool:
    """``all_mappers`` lists only the selected entities, so counts such as
    ``select(func.count()).select_from(Sale)`` and subqueries are found by their tables."""
    if any(isinstance(m.class_, type) and issubclass(m.class_, DealerScoped)
           for m in state.all_mappers):
        return True
    tables = find_tables(state.statement, include_aliases=True, include_selects=True)
    return not _scoped_tables().isdisjoint(getattr(t, "name", None) for t in tables)


@event.listens_for(Session, "do_orm_execute")
def _filter_by_scope(state: ORMExecuteState) -> None:
    if state.is_column_load or state.is_relationship_load or not _touches_scoped(state):
        return
    scope = get_scope(state.session)
    if state.is_insert:
        _check_insert_params(scope, state.parameters)
        _check_insert_values(scope, state)
        return
    history = _wants_history(state)
    if scope.is_global:
        return
    ids = tuple(sorted(scope.dealer_ids))
    if history:
        state.statement = state.statement.options(*_history_options(ids))
        return
    if state.is_update or state.is_delete:
        state.statement = state.statement.options(*_dml_criteria(state, ids))
        return
    state.statement = _filtered_read(state, ids)


def _filtered_read(state: ORMExecuteState, ids: tuple[int, ...]):
    statement = state.statement
    if statement not in _BUILT_ONCE:
        return statement.options(_read_criteria(ids))
    filtered = _FILTERED.get((statement, ids))
    if filtered is None:
        filtered = _FILTERED[statement, ids] = statement.options(_read_criteria(ids))
    return filtered


@lru_cache(maxsize=512)
def _read_criteria(ids: tuple[int, ...]):
    """The filter option of a scope, built once: the ids become bound parameters of the statement
    (tests/integration/test_tenancy.py checks two scopes never share them)."""
    return with_loader_criteria(DealerScoped, _criteria(ids), include_aliases=True)


def _dml_criteria(state: ORMExecuteState, ids: tuple[int, ...]) -> list:
    """UPDATE/DELETE resolve loader criteria on the marker class itself, which has no columns,
    so name each dealer-scoped table the statement touches."""
    scoped = {m.class_ for m in state.all_mappers if issubclass(m.class_, DealerScoped)}
    return [with_loader_criteria(cls, _criteria(ids)(cls)) for cls in scoped]


def _check_insert_params(scope: Scope, parameters) -> None:
    rows = parameters if isinstance(parameters, list) else [parameters or {}]
    for row in rows:
        if "dealer_id" in row and not scope.allows(row["dealer_id"]):
            raise TenancyError(f"insert outside the tenancy scope {scope.label!r}")


def _check_insert_values(scope: Scope, state: ORMExecuteState) -> None:
    """Check dealer ids written into the statement itself: ``insert(X).values(dealer_id=...)``."""
    statement = state.statement
    if scope.is_global:
        return
    if getattr(statement, "select", None) is not None:
        raise TenancyError(f"INSERT ... SELECT cannot be checked in the scope {scope.label!r}")
    if not (getattr(statement, "_values", None) or getattr(statement, "_multi_values", None)):
        return  # rows come as execution parameters, checked above
    params = statement.compile(dialect=state.session.get_bind().dialect).params
    _check_insert_params(scope, [{"dealer_id": value} for key, value in params.items()
                                 if key == "dealer_id" or key.startswith("dealer_id_m")])


@event.listens_for(Session, "before_flush")
def _check_writes(session: Session, flush_context, instances) -> None:
    changed = [o for o in (*session.new, *session.dirty, *session.deleted)
               if isinstance(o, DealerScoped)]
    if not changed:
        return
    scope = get_scope(session)
    for obj in changed:
        if not scope.allows(obj.dealer_id):
            raise TenancyError(f"write outside the tenancy scope {scope.label!r}")
