"""Small factories for CRM tests: wire records (common.schemas) and their rows in the portal DB.

Records are built as wire models first, so the same objects can feed the agent-side follow-up
converter and the portal database in the parity test.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from decimal import Decimal

from sqlmodel import Session

from common import schemas
from common.validators import vin_check_digit
from portal.models import Complaint, Contact, Dealer, Lead, RepairOrder, RepairPart, Sale, Survey

_seq = itertools.count(1)
NOW = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.UTC)


def make_vin() -> str:
    body = f"LSGJA52U0{next(_seq) % 10}S{next(_seq):06d}"[:17]
    return body[:8] + vin_check_digit(body) + body[9:]


def _header(dealer: Dealer, version: int = 1) -> dict:
    return {"record_id": uuid.uuid4(), "dealer_code": dealer.code, "version": version,
            "updated_at": NOW}


def wire_sale(dealer: Dealer, **kw) -> schemas.Sale:
    customer = {"name": kw.pop("name", "王伟"), "phone": kw.pop("phone", "13800000001"),
                "postcode": "200000", "address": "上海市"}
    vehicle = {"vin": kw.pop("vin", None) or make_vin(), "brand": "Buick", "model": "GL8",
               "model_year": 2025}
    return schemas.Sale(**_header(dealer), deal_number=f"D{next(_seq)}",
                        sale_date=kw.pop("sale_date", dt.date(2025, 5, 1)), customer=customer,
                        vehicle=vehicle, salesperson=kw.pop("salesperson", "李娜"),
                        price=Decimal("200000"), **kw)


def wire_contact(dealer: Dealer, ref: str, at: dt.datetime, **kw) -> schemas.Contact:
    return schemas.Contact(**_header(dealer), customer_ref=ref, channel="call", at=at,
                           by=kw.pop("by", "李娜"), **kw)


def sale_row(dealer: Dealer, w: schemas.Sale) -> Sale:
    c, v = w.customer, w.vehicle
    return Sale(dealer_id=dealer.id, record_id=w.record_id, version=w.version,
                updated_at=w.updated_at, deal_number=w.deal_number, sale_date=w.sale_date,
                customer_name=c.name, customer_phone=c.phone, customer_address=c.address,
                customer_postcode=c.postcode, customer_type=c.customer_type.value, vin=v.vin,
                brand=v.brand, model=v.model, model_year=v.model_year,
                salesperson=w.salesperson, price=w.price)


def contact_row(dealer: Dealer, w: schemas.Contact) -> Contact:
    return Contact(dealer_id=dealer.id, record_id=w.record_id, version=w.version,
                   updated_at=w.updated_at, customer_ref=w.customer_ref, channel=w.channel.value,
                   at=w.at, by=w.by, outcome=w.outcome, notes=w.notes)


def add_sale(db: Session, dealer: Dealer, **kw) -> Sale:
    row = sale_row(dealer, wire_sale(dealer, **kw))
    db.add(row)
    db.commit()
    return row


def add_repair(db: Session, dealer: Dealer, vin: str, *, opened: dt.datetime = NOW,
               parts: tuple[tuple[str, str, int], ...] = (("P-100", "机油滤清器", 1),),
               technician: str = "张师傅", odometer: int = 12000) -> RepairOrder:
    row = RepairOrder(dealer_id=dealer.id, record_id=uuid.uuid4(), version=1, updated_at=NOW,
                      ro_number=f"RO{next(_seq)}", vin=vin, opened_at=opened, odometer_km=odometer,
                      work_performed="保养", technician=technician, labor_hours=Decimal("1.5"),
                      amount=Decimal("500"), parts_count=len(parts))
    db.add(row)
    db.flush()  # parts reference the order by key; keep inserts in order
    for line, (number, name, qty) in enumerate(parts, start=1):
        db.add(RepairPart(dealer_id=dealer.id, record_id=row.record_id, line=line,
                          part_number=number, name=name, qty=qty))
    db.commit()
    return row


def add_lead(db: Session, dealer: Dealer, *, timeframe: str = "immediate", status: str = "open",
             salesperson: str = "李娜", name: str = "赵六", phone: str = "13900000009",
             created: dt.datetime = NOW) -> Lead:
    row = Lead(dealer_id=dealer.id, record_id=uuid.uuid4(), version=1, updated_at=created,
               name=name, phone=phone, interested_model="GL8", purchase_timeframe=timeframe,
               source="walk_in", salesperson=salesperson, status=status, created_at=created)
    db.add(row)
    db.commit()
    return row


def add_contact(db: Session, dealer: Dealer, ref: str, at: dt.datetime, **kw) -> Contact:
    row = contact_row(dealer, wire_contact(dealer, ref, at, **kw))
    db.add(row)
    db.commit()
    return row


def add_complaint(db: Session, dealer: Dealer, ref: str, *, received: dt.datetime = NOW,
                  status: str = "open", category: str = "服务态度") -> Complaint:
    row = Complaint(dealer_id=dealer.id, record_id=uuid.uuid4(), version=1, updated_at=received,
                    customer_ref=ref, received_at=received, channel="call", category=category,
                    description="等待时间太长", status=status)
    db.add(row)
    db.commit()
    return row


def add_survey(db: Session, dealer: Dealer, ref: str, score: int, *, about: str = "sale",
               at: dt.datetime = NOW) -> Survey:
    row = Survey(dealer_id=dealer.id, record_id=uuid.uuid4(), version=1, updated_at=at,
                 customer_ref=ref, about=about, score=score, at=at)
    db.add(row)
    db.commit()
    return row
