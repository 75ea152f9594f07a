"""The dealer's scorecard: its figures kept per scope until the next refresh."""

from __future__ import annotations

import pytest
from sqlalchemy import Row
from sqlmodel import Session

from portal.services import benchmark, metrics
from portal.tenancy import Scope, set_scope
from tests import metrics_records as rec
from tests.metrics_records import NOW, at


@pytest.fixture
def world(app, db, make_region, make_dealer):
    """North: dealers a and b, south: c; a sale, a contact and a survey each, aggregates made."""
    app.config["METRICS_NOW"] = NOW
    north, south = make_region(), make_region()
    dealers = {"a": make_dealer(region=north), "b": make_dealer(region=north),
               "c": make_dealer(region=south)}
    for n, dealer in enumerate(dealers.values()):
        sale = rec.sale(db, dealer, "2024-03-02")
        rec.contact(db, dealer, sale.vin, at("2024-03-03"))
        rec.survey(db, dealer, at("2024-03-06"), 5 if n == 0 else 3)
    db.commit()
    refresh(db)
    return {"north": north, "south": south, **dealers}


def refresh(session: Session) -> None:
    metrics.refresh(session, months=metrics.last_months(NOW.date()), now=NOW)
    session.commit()


def test_scorecard_figures_are_kept_per_scope_until_a_refresh(world, db, engine):
    months = metrics.last_months(NOW.date())
    with set_scope(Session(engine), Scope.dealers([world["a"].id], "a")) as own:
        first = benchmark.scorecard(own, db, dealer_id=world["a"].id, month=months[-1],
                                    months=months)
        assert benchmark.scorecard(own, db, dealer_id=world["a"].id, month=months[-1],
                                   months=months) is first
        assert isinstance(first.row, Row) and first.row.dealer_id == world["a"].id
        hq = benchmark.scorecard(db, db, dealer_id=world["a"].id, month=months[-1], months=months)
        assert hq is not first and hq.row == first.row  # another scope: its own entry
        refresh(db)
        own.rollback()  # a new transaction sees the new generation
        assert benchmark.scorecard(own, db, dealer_id=world["a"].id, month=months[-1],
                                   months=months) is not first
