"""Scorecard, benchmark and rollup pages: content, drill-downs and tenancy (404 across scopes)."""

from __future__ import annotations

import pytest

from common.enums import Role
from portal.services import metrics
from tests import metrics_records as rec
from tests.metrics_records import NOW, at

EN = {"Accept-Language": "en"}


@pytest.fixture
def world(app, db, make_region, make_dealer):
    """Two regions, three dealers with a sale, a repair and a survey each, aggregates computed."""
    def records(n, dealer):
        sale = rec.sale(db, dealer, "2024-03-02", model=f"M{n}")
        rec.repair(db, dealer, at("2024-03-05"), vin=sale.vin)
        rec.survey(db, dealer, at("2024-03-06"), 5 if n == 0 else 3)
        rec.contact(db, dealer, sale.vin, at("2024-03-03"))

    return rec.two_regions(app, db, make_region, make_dealer, records)


def test_scorecard_shows_metrics_with_definitions(world, make_user, login, client):
    login(make_user(Role.dealer_staff, dealer=world["a"]))
    page = client.get("/scorecard", headers=EN, follow_redirects=True).text
    assert world["a"].name_en in page
    assert "Post-sale contact compliance" in page
    assert "within 30 days of the sale" in page
    assert 'data-testid="benchmark-badge"' in page  # the best dealer leads the benchmark group


@pytest.mark.parametrize(("role", "status"), [(Role.dealer_staff, 404),
                                              (Role.region_manager, 404)])
def test_scorecard_of_another_scope_is_404(world, make_user, login, client, role, status):
    login(make_user(role, dealer=world["a"] if role == Role.dealer_staff else None,
                    region=world["north"] if role == Role.region_manager else None))
    assert client.get(f"/scorecard/{world['c'].code}").status_code == status
    assert client.get(f"/scorecard/{world['c'].code}/fix/loyalty").status_code == status


def test_fix_list_names_the_records(world, make_user, login, client):
    login(make_user(Role.dealer_manager, dealer=world["b"]))
    page = client.get(f"/scorecard/{world['b'].code}/fix/loyalty?month=2024-03", headers=EN).text
    assert "Scored 3 of 5" in page


def test_benchmark_ranks_only_the_region_for_a_region_manager(world, make_user, login, client):
    login(make_user(Role.region_manager, region=world["north"]))
    page = client.get("/benchmark?month=2024-03", headers=EN).text
    assert world["a"].name_en in page and world["b"].name_en in page
    assert f">{world['c'].name_en}</a>" not in page
    assert "<svg" in page


def test_dealer_users_cannot_open_rollups(world, make_user, login, client):
    login(make_user(Role.dealer_manager, dealer=world["a"]))
    assert client.get("/rollups/").status_code == 403
    assert client.get("/benchmark").status_code == 403


def test_hq_rollups_drill_down_to_sales(world, make_user, login, client):
    login(make_user(Role.hq))
    page = client.get("/rollups/?first=2024-03&last=2024-03", headers=EN).text
    assert 'data-testid="total-sales"' in page and "M2" in page
    drill = client.get("/rollups/sales?first=2024-03&last=2024-03&brand=Buick&model=M2",
                       headers=EN).text
    assert "1 records" in drill and world["c"].code in drill


@pytest.mark.parametrize("path", ["/rollups/sales?dealer={c}", "/rollups/?region={south}",
                                  "/rollups/repairs?dealer={c}"])
def test_region_manager_drill_down_outside_region_is_404(world, make_user, login, client, path):
    login(make_user(Role.region_manager, region=world["north"]))
    url = path.format(c=world["c"].id, south=world["south"].id)
    assert client.get(url).status_code == 404


def test_region_manager_sees_only_own_region_figures(world, make_user, login, client):
    login(make_user(Role.region_manager, region=world["north"]))
    page = client.get("/rollups/repairs?first=2024-03&last=2024-03", headers=EN).text
    assert "2 records" in page and world["c"].code not in page


def test_parts_figure_drills_down_to_repair_orders(world, make_user, login, client):
    login(make_user(Role.hq))
    url = "/rollups/repairs?first=2024-03&last=2024-03&brand=Buick&model=M0&part=P1"
    page = client.get(url, headers=EN).text
    assert "1 records" in page and world["a"].code in page


def test_hq_region_sums_match_the_dealer_rows(world, db, make_dealer):
    from portal.services import rollups
    from portal.tenancy import Scope, set_scope

    f = rollups.Filters(metrics.last_months(NOW.date())[0], NOW.date().replace(day=1),
                        region_id=world["north"].id)
    hq = rollups.volumes_by(db, f, "model").rows, rollups.top_parts(db, f)  # per-region sums
    set_scope(db, Scope.dealers([world["a"].id, world["b"].id]))  # the whole north region
    assert rollups.whole_regions(db) == [world["north"].id]
    assert (rollups.volumes_by(db, f, "model").rows, rollups.top_parts(db, f)) == hq
    make_dealer(region=world["south"])  # c no longer covers the south: per-dealer rows
    set_scope(db, Scope.dealers([world["a"].id, world["b"].id, world["c"].id]))
    assert rollups.whole_regions(db) == []
    assert (rollups.volumes_by(db, f, "model").rows, rollups.top_parts(db, f)) == hq
    assert len(hq[0]) == 2


def test_region_manager_rollups_leave_out_other_regions(world, make_user, login, client):
    login(make_user(Role.region_manager, region=world["north"]))
    page = client.get("/rollups/?first=2024-03&last=2024-03", headers=EN).text
    assert ">M0<" in page and ">M2<" not in page
