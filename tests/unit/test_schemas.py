"""Wire schemas of the six record kinds (common/schemas.py) and how their errors are described."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from pydantic import ValidationError

from common.protocol import describe_validation_error
from common.schemas import BUSINESS_KEYS, RECORD_MODELS, parse_record

HEADER = {"dealer_code": "SH001", "version": 1, "updated_at": "2024-03-01T10:00:00+08:00"}
VIN = "LSGJA52U8CH123456"


def _record(kind: str, **fields) -> dict:
    return {"record_id": str(uuid.uuid4()), "kind": kind, **HEADER, **fields}


def sale(**overrides) -> dict:
    customer = {"name": "张伟", "phone": "138 1234 5678", "postcode": "200000",
                "address": "上海市浦东新区", "customer_type": "individual"}
    vehicle = {"vin": VIN.lower(), "brand": "Buick", "model": "GL8", "model_year": 2024}
    return _record("sale", deal_number="S-2024-001", sale_date="2024-02-29", customer=customer,
                   vehicle=vehicle, salesperson="李娜", price="268000.00") | overrides


VALID = {
    "sale": sale(),
    "repair_order": _record(
        "repair_order", ro_number="RO-1", vin=VIN, opened_at="2024-03-02T09:00:00+08:00",
        odometer_km=12000, technician="王强", labor_hours="1.5", amount="800.00",
        parts=[{"part_number": "24105735", "name": "机油滤清器", "qty": 1}],
    ),
    "lead": _record("lead", name="赵敏", phone="021-12345678", purchase_timeframe="within_3_months",
                    source="auto_show"),
    "contact": _record("contact", customer_ref=VIN, channel="call", at="2024-03-10T15:00:00Z",
                       by="李娜"),
    "complaint": _record("complaint", customer_ref=VIN, received_at="2024-03-11T08:00:00Z",
                         channel="wechat", category="service", description="等待时间太长"),
    "survey": _record("survey", customer_ref=VIN, about="repair", score=5,
                      at="2024-03-12T08:00:00Z"),
}


@pytest.mark.parametrize("kind", sorted(VALID))
def test_every_kind_parses_to_its_model(kind):
    record = parse_record(VALID[kind])
    assert type(record) is RECORD_MODELS[kind]
    assert record.kind == kind
    assert set(RECORD_MODELS) == set(BUSINESS_KEYS)


def test_sale_normalises_nested_customer_and_vehicle():
    record = parse_record(sale())
    assert record.vehicle.vin == VIN
    assert record.customer.phone == "13812345678"
    assert record.sale_date == dt.date(2024, 2, 29)
    assert record.price == Decimal("268000.00")


def test_repair_order_parts_and_defaults():
    record = parse_record(VALID["repair_order"])
    assert record.parts[0].qty == 1
    assert record.warranty is False and record.closed_at is None


@pytest.mark.parametrize(
    ("kind", "change", "code", "field"),
    [
        ("sale", {"sale_date": "2023-02-29"}, "invalid_date_from_datetime_parsing", "sale_date"),
        ("sale", {"price": "-1"}, "invalid_greater_than_equal", "price"),
        ("sale", {"lead_source": "tv"}, "invalid_enum", "lead_source"),
        ("sale", {"deal_number": ""}, "invalid_string_too_short", "deal_number"),
        ("sale", {"unknown": 1}, "invalid_extra_forbidden", "unknown"),
        ("sale", {"version": 0}, "invalid_greater_than_equal", "version"),
        ("sale", {"record_id": "not-a-uuid"}, "invalid_uuid_parsing", "record_id"),
        ("lead", {"purchase_timeframe": "someday"}, "invalid_enum", "purchase_timeframe"),
        ("lead", {"status": "closed"}, "invalid_enum", "status"),
        ("lead", {"phone": "12345"}, "phone", "phone"),
        ("contact", {"channel": "fax"}, "invalid_enum", "channel"),
        ("contact", {"at": "yesterday"}, "invalid_datetime_from_date_parsing", "at"),
        ("complaint", {"status": "closed"}, "invalid_enum", "status"),
        ("survey", {"score": 6}, "invalid_less_than_equal", "score"),
        ("survey", {"score": 0}, "invalid_greater_than_equal", "score"),
        ("survey", {"about": "order"}, "invalid_enum", "about"),
        ("repair_order", {"vin": "LSGJA52U0CH123456"}, "vin_check_digit", "vin"),
        ("repair_order", {"odometer_km": -5}, "invalid_greater_than_equal", "odometer_km"),
    ],
)
def test_invalid_fields_are_described(kind, change, code, field):
    with pytest.raises(ValidationError) as info:
        parse_record(VALID[kind] | change)
    assert describe_validation_error(info.value)[0::2] == (code, field)


@pytest.mark.parametrize(
    ("part", "change", "code", "field"),
    [
        ("customer", {"phone": "123"}, "phone", "customer.phone"),
        ("customer", {"postcode": "20000"}, "postcode", "customer.postcode"),
        ("customer", {"customer_type": "dealer"}, "invalid_enum", "customer.customer_type"),
        ("customer", {"name": ""}, "invalid_string_too_short", "customer.name"),
        ("vehicle", {"vin": "5YJSA1E26HF000337"}, "vin_check_digit", "vehicle.vin"),
        ("vehicle", {"vin": "LSGJA52U8CH12345"}, "vin_length", "vehicle.vin"),
        ("vehicle", {"vin": "LSGJA52U8CH12345O"}, "vin_character", "vehicle.vin"),
        ("vehicle", {"model_year": 1980}, "invalid_greater_than_equal", "vehicle.model_year"),
    ],
)
def test_nested_customer_and_vehicle_errors_name_the_field(part, change, code, field):
    record = sale()
    record[part] = record[part] | change
    with pytest.raises(ValidationError) as info:
        parse_record(record)
    assert describe_validation_error(info.value)[0::2] == (code, field)


@pytest.mark.parametrize(
    ("parts", "field"),
    [([{"part_number": "", "name": "x", "qty": 1}], "parts.0.part_number"),
     ([{"part_number": "P1", "name": "x", "qty": 0}], "parts.0.qty"),
     ([{"part_number": "P1", "name": "x", "qty": 1, "price": 3}], "parts.0.price")],
)
def test_bad_parts_lines_name_the_line(parts, field):
    with pytest.raises(ValidationError) as info:
        parse_record(VALID["repair_order"] | {"parts": parts})
    assert describe_validation_error(info.value)[2] == field


@pytest.mark.parametrize("kind", ["boat", None])
def test_unknown_or_missing_kind_is_invalid_kind(kind):
    record = {k: v for k, v in VALID["survey"].items() if k != "kind"}
    if kind:
        record["kind"] = kind
    with pytest.raises(ValidationError) as info:
        parse_record(record)
    assert describe_validation_error(info.value)[0::2] == ("invalid_kind", "")


def test_discriminator_picks_the_kind_not_the_shape():
    # a survey's fields under the contact tag are checked as a contact
    with pytest.raises(ValidationError) as info:
        parse_record(VALID["survey"] | {"kind": "contact"})
    assert describe_validation_error(info.value) == (
        "invalid_missing", "channel: Field required", "channel"
    )


def test_field_error_message_is_the_plain_sentence():
    with pytest.raises(ValidationError) as info:
        parse_record(sale(vehicle=sale()["vehicle"] | {"vin": "5YJSA1E26HF000337"}))
    _, message, _ = describe_validation_error(info.value)
    assert message == ("The VIN's check digit (9th character) is '6' but should be '7': "
                       "a character was probably mistyped.")


def test_records_are_frozen_and_strip_whitespace():
    record = parse_record(VALID["lead"] | {"name": "  赵敏  "})
    assert record.name == "赵敏"
    with pytest.raises(ValidationError):
        record.name = "x"

