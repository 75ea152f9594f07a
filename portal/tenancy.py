"""The one tenancy layer: every ORM query on a dealer-scoped table is filtered here.

A session carries a :class:`Scope` in ``session.info["scope"]``. A listener adds
``dealer_id IN (...)`` to every SELECT, UPDATE and DELETE touching a
:class:`~portal.models.base.DealerScoped` table, and a flush check refuses to
write a row outside the scope. A session without a scope cannot touch those
tables at all (fail closed), so a forgotten filter is an error, not a leak.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import event, or_
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from portal.models.base import DealerScoped


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
        if cls.__tenancy_shared_rows__:
            return or_(cls.dealer_id.in_(ids), cls.dealer_id.is_(None))
        return cls.dealer_id.in_(ids)

    return criterion


def _touches_scoped(state: ORMExecuteState) -> bool:
    return any(
        isinstance(m.class_, type) and issubclass(m.class_, DealerScoped)
        for m in state.all_mappers
    )


@event.listens_for(Session, "do_orm_execute")
def _filter_by_scope(state: ORMExecuteState) -> None:
    if state.is_column_load or state.is_relationship_load or not _touches_scoped(state):
        return
    scope = get_scope(state.session)
    if state.is_insert:
        _check_insert_params(scope, state.parameters)
        return
    if scope.is_global:
        return
    ids = tuple(sorted(scope.dealer_ids))
    state.statement = state.statement.options(
        with_loader_criteria(DealerScoped, _criteria(ids), include_aliases=True)
    )


def _check_insert_params(scope: Scope, parameters) -> None:
    rows = parameters if isinstance(parameters, list) else [parameters or {}]
    for row in rows:
        if "dealer_id" in row and not scope.allows(row["dealer_id"]):
            raise TenancyError(f"insert outside the tenancy scope {scope.label!r}")


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
