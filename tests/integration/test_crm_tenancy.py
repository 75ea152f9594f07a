"""The tenancy layer filters counts and subqueries too, not only selected entities."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from portal.models import Dealer, Sale
from portal.tenancy import Scope, TenancyError, set_scope
from tests.integration.crm_factories import add_sale

STATEMENTS = {
    "count": lambda: select(func.count()).select_from(Sale),
    "count_of_subquery": lambda: select(func.count()).select_from(select(Sale).subquery()),
    "in_subquery": lambda: select(func.count()).select_from(Dealer)
    .where(Dealer.id.in_(select(Sale.dealer_id))),
}


@pytest.mark.parametrize("name", STATEMENTS)
def test_other_dealers_rows_are_not_counted(engine, db, make_dealer, name):
    mine, other = make_dealer(), make_dealer()
    add_sale(db, other)
    with set_scope(Session(engine), Scope.dealers([mine.id])) as session:
        assert session.exec(STATEMENTS[name]()).one() == 0
    assert db.exec(STATEMENTS[name]()).one() == 1


def test_count_without_scope_fails_closed(engine):
    with Session(engine) as session, pytest.raises(TenancyError):
        session.exec(STATEMENTS["count"]()).one()
