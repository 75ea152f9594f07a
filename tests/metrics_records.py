"""Tiny hand-built records for the metrics, benchmark and rollup tests."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from decimal import Decimal

from sqlmodel import Session

from common.validators import vin_check_digit
from portal.db import make_engine
from portal.models import Complaint, Contact, Lead, RepairOrder, RepairPart, Sale, Survey
from portal.services import metrics
from portal.tenancy import Scope, set_scope

_serial = itertools.count(1)
NOW = dt.datetime(2024, 3, 20, 12, 0, tzinfo=dt.UTC)


def good_vin() -> str:
    """A VIN with a correct check digit, different each call."""
    body = f"LSGWB54E0AS{next(_serial):06d}"
    return body[:8] + vin_check_digit(body) + body[9:]


def bad_vin() -> str:
    vin = good_vin()
    return vin[:8] + ("1" if vin[8] != "1" else "2") + vin[9:]


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)


def _common(dealer, when: dt.datetime) -> dict:
    return {"dealer_id": dealer.id, "record_id": uuid.uuid4(), "version": 1, "updated_at": when}


def sale(db, dealer, day: str, *, vin: str | None = None, phone: str = "13812345678",
         postcode: str = "200000", brand: str = "Buick", model: str = "GL8") -> Sale:
    row = Sale(**_common(dealer, at(day)), deal_number=f"S{next(_serial)}",
               sale_date=dt.date.fromisoformat(day), customer_name="王先生", customer_phone=phone,
               customer_postcode=postcode, customer_type="individual", vin=vin or good_vin(),
               brand=brand, model=model, model_year=2024, salesperson="李", price=Decimal(1))
    db.add(row)
    return row


def contact(db, dealer, ref, when: dt.datetime) -> Contact:
    row = Contact(**_common(dealer, when), customer_ref=str(ref), channel="call", at=when, by="李")
    db.add(row)
    return row


OIL_FILTER = ("P1", "机油滤清器", 1)


def repair(db, dealer, when: dt.datetime, *, vin: str | None = None, parts=(OIL_FILTER,),
           technician: str = "张") -> RepairOrder:
    row = RepairOrder(**_common(dealer, when), ro_number=f"R{next(_serial)}", vin=vin or good_vin(),
                      opened_at=when, odometer_km=1, technician=technician,
                      labor_hours=Decimal(1), amount=Decimal(1), parts_count=len(parts))
    db.add(row)
    for line, (number, name, qty) in enumerate(parts, start=1):
        db.add(RepairPart(dealer_id=dealer.id, record_id=row.record_id, line=line,
                          part_number=number, name=name, qty=qty))
    return row


def lead(db, dealer, when: dt.datetime, *, timeframe: str = "within_3_months",
         status: str = "open") -> Lead:
    row = Lead(**_common(dealer, when), name="赵", phone="13812345678",
               purchase_timeframe=timeframe, source="walk_in", status=status, created_at=when)
    db.add(row)
    return row


def complaint(db, dealer, received: dt.datetime, answered: dt.datetime | None) -> Complaint:
    row = Complaint(**_common(dealer, received), customer_ref="X", received_at=received,
                    channel="call", category="服务", description="太慢", answered_at=answered,
                    status="answered" if answered else "open")
    db.add(row)
    return row


def survey(db, dealer, when: dt.datetime, score: int) -> Survey:
    row = Survey(**_common(dealer, when), customer_ref="X", about="sale", score=score, at=when)
    db.add(row)
    return row


def two_regions(app, db, make_region, make_dealer, records) -> dict:
    """North: dealers a and b, south: c, each given ``records(n, dealer)``; aggregates made."""
    app.config["METRICS_NOW"] = NOW
    north, south = make_region(), make_region()
    dealers = {"a": make_dealer(region=north), "b": make_dealer(region=north),
               "c": make_dealer(region=south)}
    for n, dealer in enumerate(dealers.values()):
        records(n, dealer)
    db.commit()
    refresh(db)
    return {"north": north, "south": south, **dealers}


def refresh(session: Session) -> None:
    metrics.refresh(session, months=metrics.last_months(NOW.date()), now=NOW)
    session.commit()


def refresh_elsewhere(engine) -> None:
    """Refresh as another process's job does: its own engine, no word to this process."""
    other = make_engine(engine.url.render_as_string(hide_password=False))
    with set_scope(Session(other), Scope.everything("job")) as session:
        refresh(session)
    other.dispose()
