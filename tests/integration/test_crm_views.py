"""CRM pages: 360 pages, lists with filters and pages, htmx fragments, CSV export, isolation."""

from __future__ import annotations

import csv
import io

import pytest

from common.enums import Role
from tests.integration.crm_factories import (
    add_complaint,
    add_lead,
    add_repair,
    add_sale,
    add_survey,
    make_vin,
)

EN = {"Accept-Language": "en"}
LISTS = ["/customers/", "/customers/vehicles", "/leads/", "/leads/next", "/follow-ups/",
         "/complaints/", "/complaints/surveys"]
EXPORTS = ["/customers/export.csv", "/customers/vehicles/export.csv", "/leads/export.csv",
           "/leads/next/export.csv", "/follow-ups/export.csv", "/complaints/export.csv",
           "/complaints/surveys/export.csv"]


@pytest.fixture
def two_dealers(db, make_dealer):
    mine, other = make_dealer(), make_dealer()
    for dealer, name in ((mine, "本店客户"), (other, "外店客户")):
        sale = add_sale(db, dealer, name=name, phone=f"1390000{dealer.id:04d}", vin=make_vin())
        add_lead(db, dealer, name=name, phone=f"1370000{dealer.id:04d}")
        add_complaint(db, dealer, sale.vin, category=name)
        add_survey(db, dealer, sale.vin, 5)
    return mine, other


def _get(client, url, **headers):
    with client.get(url, headers={**EN, **headers}) as response:
        return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize("url", LISTS + EXPORTS)
def test_lists_and_exports_never_show_another_dealer(client, make_user, login, two_dealers, url):
    mine, _ = two_dealers
    login(make_user(Role.dealer_staff, dealer=mine))
    status, body = _get(client, url)
    assert status == 200
    assert "外店客户" not in body


@pytest.mark.parametrize("url", ["/customers/", "/leads/", "/complaints/"])
def test_own_records_are_listed(client, make_user, login, two_dealers, url):
    login(make_user(Role.dealer_staff, dealer=two_dealers[0]))
    assert "本店客户" in _get(client, url)[1]


def test_other_dealers_vehicle_and_customer_are_not_found(client, db, make_user, login,
                                                          two_dealers):
    mine, other = two_dealers
    foreign = add_sale(db, other, phone="13912345678")
    login(make_user(Role.dealer_manager, dealer=mine))
    assert _get(client, f"/customers/vehicles/{foreign.vin}")[0] == 404
    assert _get(client, "/customers/13912345678")[0] == 404
    assert _get(client, f"/customers/by-sale/{foreign.record_id}")[0] == 404


def test_vehicle_page_shows_repairs_at_other_stations(client, db, make_user, login, make_dealer):
    seller, station = make_dealer(), make_dealer()
    sale = add_sale(db, seller)
    add_repair(db, station, sale.vin, parts=(("P-77", "火花塞", 4),), technician="陈师傅")
    login(make_user(Role.dealer_staff, dealer=seller))
    body = _get(client, f"/customers/vehicles/{sale.vin}")[1]
    assert station.name_en in body and "陈师傅" in body and "P-77" in body


def test_region_manager_sees_the_region_only(client, db, make_region, make_dealer, make_user,
                                             login):
    region = make_region()
    inside, outside = make_dealer(region=region), make_dealer()
    add_lead(db, inside, name="区内线索")
    add_lead(db, outside, name="区外线索")
    login(make_user(Role.region_manager, region=region))
    body = _get(client, "/leads/")[1]
    assert "区内线索" in body and "区外线索" not in body


def test_csv_has_bom_and_respects_filters(client, db, make_user, login, make_dealer):
    dealer = make_dealer()
    add_lead(db, dealer, name="张三", timeframe="within_3_months")
    add_lead(db, dealer, name="李四", timeframe="within_1_year")
    login(make_user(Role.dealer_staff, dealer=dealer))
    with client.get("/leads/export.csv?timeframe=within_3_months") as response:
        raw = response.get_data()
    assert response.mimetype == "text/csv" and raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(r["name"], r["handling"]) for r in rows] == [("张三", "pull_forward")]


def test_csv_neutralises_formulas(client, db, make_user, login, make_dealer):
    dealer = make_dealer()
    add_complaint(db, dealer, "x", category="=HYPERLINK(1)")
    login(make_user(Role.dealer_staff, dealer=dealer))
    assert "'=HYPERLINK(1)" in _get(client, "/complaints/export.csv")[1]


def test_lists_paginate_and_keep_filters(client, db, make_user, login, make_dealer, app):
    app.config["PAGE_SIZE"] = 2
    dealer = make_dealer()
    for n in range(5):
        add_lead(db, dealer, name=f"客户{n}", timeframe="within_6_months")
    login(make_user(Role.dealer_staff, dealer=dealer))
    body = _get(client, "/leads/?timeframe=within_6_months&page=3")[1]
    assert body.count('data-testid="lead-row"') == 1 and "Page 3 of 3" in body
    assert "timeframe=within_6_months" in body  # the pager keeps the filter


def test_search_filters_customers(client, db, make_user, login, make_dealer):
    dealer = make_dealer()
    add_sale(db, dealer, name="欧阳娜", phone="13811112222")
    add_sale(db, dealer, name="司马光", phone="13833334444")
    login(make_user(Role.dealer_staff, dealer=dealer))
    body = _get(client, "/customers/?q=欧阳", **{"HX-Request": "true"})[1]
    assert "欧阳娜" in body and "司马光" not in body and "<html" not in body


def test_customer_360_shows_vehicles_complaints_and_surveys(client, db, make_user, login,
                                                            make_dealer):
    dealer = make_dealer()
    sale = add_sale(db, dealer, name="周杰", phone="13855556666")
    add_complaint(db, dealer, sale.vin, category="交车延误")
    add_survey(db, dealer, sale.vin, 5)
    login(make_user(Role.dealer_staff, dealer=dealer))
    body = _get(client, "/customers/13855556666")[1]
    assert sale.vin in body and "交车延误" in body and "5 / 5" in body


def test_domain_labels_are_in_chinese(client, make_user, login, two_dealers):
    login(make_user(Role.dealer_staff, dealer=two_dealers[0]))
    body = _get(client, "/leads/", **{"Accept-Language": "zh-CN"})[1]
    assert "立即购买" in body and "三个月内" in body


def test_list_rows_escape_what_was_typed(client, db, make_user, login, make_dealer):
    dealer = make_dealer()
    script = "<script>alert(1)</script>"
    lead = add_lead(db, dealer, name=script, phone="139<b>01", salesperson="<i>Tom</i>",
                    status="<u>odd</u>")
    add_sale(db, dealer, name=script, phone="13800000002")
    login(make_user(Role.dealer_manager, dealer=dealer))
    client.post(f"/records/lead/{lead.record_id}/correct",
                data={"field": "interested_model", "value": script, "next": "/leads/"})
    for url in ("/leads/", "/customers/"):
        body = _get(client, url)[1]
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and script not in body
    body = _get(client, "/leads/")[1]
    assert 'data-testid="corrected-interested_model">&lt;script&gt;' in body
    assert 'href="/customers/139%3Cb%3E01"' in body and "<td>139&lt;b&gt;01</td>" in body
    assert "&lt;i&gt;Tom&lt;/i&gt;" in body and "&lt;u&gt;odd&lt;/u&gt;" in body


@pytest.mark.parametrize(("query", "total"), [("", 3), ("?q=王", 2), ("?customer_type=company", 0),
                                              ("?q=13800000003", 1)])
def test_customer_total_counts_phones_not_sales(client, db, make_user, login, make_dealer,
                                                query, total):
    dealer = make_dealer()
    for name, phone, sales in (("王伟", "13800000001", 3), ("王芳", "13800000002", 1),
                               ("李娜", "13800000003", 2)):
        for _ in range(sales):
            add_sale(db, dealer, name=name, phone=phone)
    add_sale(db, make_dealer(), name="王五", phone="13800000009")  # another dealer's
    login(make_user(Role.dealer_staff, dealer=dealer))
    body = _get(client, f"/customers/{query}")[1]
    assert f"{total} in total" in body and body.count('href="/customers/138') == total
