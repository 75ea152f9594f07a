"""Importing CSV and JSON Lines in canonical names: nesting, parts, idempotency, quarantine."""

from __future__ import annotations

import json

import pytest

from sync_agent.importer import import_file, import_rows, read_csv, unflatten
from tests.unit.agent_fakes import VIN, enrolled_store, lead, sale

SALES_CSV = (
    "kind,deal_number,sale_date,customer.name,customer.phone,customer.postcode,vehicle.vin,"
    "vehicle.brand,vehicle.model,vehicle.model_year,salesperson,price\n"
    f"sale,S-1,2024-02-29,张伟,13812345678,200000,{VIN},Buick,GL8,2024,李娜,268000\n"
    f"sale,S-2,2024-03-01,王芳,13912345678,200001,{VIN[:8]}9{VIN[9:]},Buick,GL8,2024,李娜,1\n"
)
PART_LINES_CSV = (
    "ro_number,vin,opened_at,odometer_km,technician,part.part_number,part.name,part.qty\n"
    f"RO-1,{VIN},2024-03-02T09:00:00+08:00,12000,王强,24105735,机油滤清器,1\n"
    f"RO-1,{VIN},2024-03-02T09:00:00+08:00,12000,王强,94535634,机油,4\n"
    f"RO-2,{VIN},2024-03-03T09:00:00+08:00,12500,王强,24105735,机油滤清器,1\n"
)


@pytest.fixture
def store(tmp_path):
    with enrolled_store(tmp_path / "agent") as store:
        yield store


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_dotted_columns_nest_and_empty_cells_are_absent():
    assert unflatten({"customer.name": "张伟", "vehicle.vin": VIN, "trim": " "}) == {
        "customer": {"name": "张伟"}, "vehicle": {"vin": VIN}}


def test_csv_sales_import_with_bad_row_quarantined(store, tmp_path):
    report = import_file(store, write(tmp_path, "sales.csv", SALES_CSV))
    assert [r.status for r in report.rows] == ["created", "quarantined"]
    [bad] = store.quarantine_list()
    assert (bad.source, bad.field, bad.code) == ("import", "vehicle.vin", "vin_check_digit")
    assert bad.payload["deal_number"] == "S-2"


def test_importing_the_same_file_twice_creates_nothing_new(store, tmp_path):
    path = write(tmp_path, "sales.csv", SALES_CSV)
    import_file(store, path)
    report = import_file(store, path)
    assert report.counts() == {"unchanged": 1, "already_quarantined": 1}
    assert (store.count_records(), store.pending_count(), store.quarantine_count()) == (1, 1, 1)


def test_part_lines_form_one_repair_order(store, tmp_path):
    report = import_file(store, write(tmp_path, "ro.csv", PART_LINES_CSV), kind="repair_order")
    assert report.counts() == {"created": 2}
    order = store.find_record("repair_order", "RO-1")
    assert [(p["part_number"], p["qty"]) for p in order.payload["parts"]] == [
        ("24105735", 1), ("94535634", 4)]


def test_parts_as_json_column(store):
    parts = json.dumps([{"part_number": "24105735", "name": "机油滤清器", "qty": 2}])
    quoted = parts.replace('"', '""')
    rows = read_csv("ro_number,vin,opened_at,odometer_km,technician,parts\n"
                    f'RO-9,{VIN},2024-03-02T09:00:00Z,1,王强,"{quoted}"\n')
    import_rows(store, rows, kind="repair_order")
    assert store.find_record("repair_order", "RO-9").payload["parts"][0]["qty"] == 2


def test_jsonl_leads_without_business_key_are_not_duplicated(store, tmp_path):
    lines = "\n".join(json.dumps({"kind": "lead", **lead(name)}) for name in ("赵敏", "钱进"))
    path = write(tmp_path, "leads.jsonl", lines + "\n{not json\n")
    first = import_file(store, path)
    second = import_file(store, path)
    assert first.counts() == {"created": 2, "quarantined": 1}
    assert second.counts() == {"unchanged": 2, "already_quarantined": 1}
    assert store.count_records("lead") == 2


def test_changed_row_updates_existing_record(store, tmp_path):
    import_rows(store, [(1, {"kind": "lead", **lead()})])
    report = import_rows(store, [(1, {"kind": "lead", **lead(status="won")})])
    assert report.counts() == {"updated": 1} and store.list_records("lead")[0].version == 2


def test_same_record_twice_in_one_file_keeps_the_last(store):
    report = import_rows(store, [(1, {"kind": "sale", **sale(price="1")}),
                                 (2, {"kind": "sale", **sale(price="2")})])
    assert [r.status for r in report.rows] == ["superseded", "created"]
    assert store.find_record("sale", "S-1").payload["price"] == "2"


def test_row_without_kind_is_quarantined_with_reason(store):
    report = import_rows(store, [(7, lead())])
    assert report.rows[0].problems[0].code == "kind_missing"


def test_progress_is_reported(store):
    seen = []
    import_rows(store, [(i, {"kind": "lead", **lead(f"n{i}")}) for i in range(450)],
                progress=lambda done, total: seen.append((done, total)))
    assert seen == [(200, 450), (400, 450), (450, 450)]
