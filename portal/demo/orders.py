"""Demo vehicle orders, so the factory simulator has production to move from the start."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from sqlmodel import Session, select

from portal.models import CarModel, Dealer
from portal.services import catalogue, orders

ORDERS_PER_DEALER = 3
DEALERS_WITH_ORDERS = 6
DELIVERY_POINTS = ("展厅", "二号库", "城东交付中心")


def valid_line(spec: catalogue.ModelSpec, rng: random.Random) -> orders.LineInput | None:
    """A configuration of *spec* the rule engine accepts, with no options (or None)."""
    pairs = list(itertools.product(spec.trims, spec.colours))
    rng.shuffle(pairs)
    for trim, colour in pairs:
        selection = catalogue.Selection(trim.code, colour.code)
        if catalogue.check_configuration(spec, selection).ok:
            return orders.LineInput(spec.model_id, trim.code, colour.code,
                                    quantity=rng.randint(1, 3))
    return None


def seed_demo_orders(session: Session, *, seed: int, now: dt.datetime) -> int:
    """Place a few retail and stock orders for the first demo dealers; returns how many."""
    rng = random.Random(f"{seed}:orders")
    model_ids = list(session.exec(select(CarModel.id).where(CarModel.active)))
    specs = [catalogue.build_spec(session=session, model_id=i) for i in sorted(model_ids)]
    dealers = session.exec(select(Dealer).order_by(Dealer.id).limit(DEALERS_WITH_ORDERS))
    placed = 0
    for dealer, n in itertools.product(list(dealers), range(ORDERS_PER_DEALER)):
        line = valid_line(rng.choice(specs), rng)
        if line is None:
            continue
        retail = n % 2 == 0
        data = orders.OrderInput(
            kind="retail" if retail else "stock", delivery_point=rng.choice(DELIVERY_POINTS),
            lines=(line,), customer_name="王先生" if retail else "",
            notes="demo order")
        orders.create_order(session=session, dealer_id=dealer.id, data=data,
                            actor=orders.Actor(name="demo"), now=now)
        placed += 1
    return placed
