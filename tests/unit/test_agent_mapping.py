"""DMS exports: reading CSV/XLSX, recognising Chinese and English headers, normalising values."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook

from sync_agent import mapping
from tests.unit.agent_fakes import enrolled_store

SALE_HEADERS = ["车架号", "客户姓名", "合同号", "销售日期", "手机", "邮编", "品牌", "车型", "年款",
                "销售顾问", "成交价", "内部备注"]


@pytest.mark.parametrize(("header", "kind", "target"), [
    ("车架号", "sale", "vehicle.vin"), ("底盘号", "sale", "vehicle.vin"), ("VIN", "sale",
     "vehicle.vin"), ("VIN", "repair_order", "vin"), ("车架号", "contact", "customer_ref"),
    ("客户姓名", "sale", "customer.name"), ("Customer Name", "sale", "customer.name"),
    ("维修单号", "repair_order", "ro_number"), ("RO No.", "repair_order", "ro_number"),
    ("零件号", "repair_order", "part.part_number"), ("vehicle.vin", "sale", "vehicle.vin"),
    ("客户姓名", "lead", "name"), ("ＶＩＮ", "sale", "vehicle.vin"),
])
def test_headers_are_recognised_per_kind(header, kind, target):
    assert mapping.recognise([header], kind).columns[header] == target


def test_the_kind_is_guessed_and_unknown_columns_are_ignored():
    found = mapping.recognise(SALE_HEADERS)
    assert found.kind == "sale"
    assert found.columns["内部备注"] == mapping.IGNORE
    assert found.columns["成交价"] == "price"


@pytest.mark.parametrize(("kind", "target", "cell", "value"), [
    ("repair_order", "warranty", "是", True), ("repair_order", "warranty", "否", False),
    ("repair_order", "opened_at", "2024/3/1 9:30", "2024-03-01T09:30:00+08:00"),
    ("sale", "sale_date", "2024年3月1日", "2024-03-01"),
    ("contact", "channel", "电话", "call"), ("contact", "channel", "WeChat", "wechat"),
    ("lead", "purchase_timeframe", "三个月内", "within_3_months"),
    ("sale", "customer.customer_type", "公司", "company"),
    ("sale", "price", "268,000.00", "268000.00"),
])
def test_cells_are_normalised(kind, target, cell, value):
    assert mapping.convert(kind, target, cell) == value


def test_gb18030_csv_is_read(tmp_path):
    path = tmp_path / "dms.csv"
    path.write_bytes("维修单号,车架号\nRO-1,LSGJA52U8CH123456\n".encode("gb18030"))
    table = mapping.read_table(path)
    assert table.headers == ["维修单号", "车架号"]
    assert table.rows == [(2, {"维修单号": "RO-1", "车架号": "LSGJA52U8CH123456"})]


def test_xlsx_cells_become_text(tmp_path):
    book = Workbook()
    book.active.append(["合同号", "销售日期", "年款"])
    book.active.append(["S-1", dt.datetime(2024, 3, 1), 2024.0])
    book.save(tmp_path / "dms.xlsx")
    table = mapping.read_table(tmp_path / "dms.xlsx")
    assert table.rows == [(2, {"合同号": "S-1", "销售日期": "2024-03-01", "年款": "2024"})]


def test_an_unreadable_file_says_why(tmp_path):
    (tmp_path / "x.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(mapping.UnreadableFile, match="cannot be opened"):
        mapping.read_table(tmp_path / "x.xlsx")


def test_a_saved_mapping_is_reused_for_its_source(tmp_path):
    with enrolled_store(tmp_path) as store:
        chosen = mapping.recognise(SALE_HEADERS)
        chosen.columns["内部备注"] = "customer.address"
        mapping.save_mapping(store, "DMS 销售", chosen)
        again = mapping.mapping_for(store, "DMS 销售", [*SALE_HEADERS, "颜色"])
    assert again.columns["内部备注"] == "customer.address"
    assert again.columns["颜色"] == "vehicle.color"
    assert again.kind == "sale"
