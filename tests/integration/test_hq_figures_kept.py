"""HQ figures kept per process between refreshes: a refresh anywhere shows at once, and the
figures of one scope never reach another."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from flask import url_for

from common.enums import Role
from common.i18n import load_catalogue
from portal.rollups import Links
from portal.services import metrics, rollups
from tests import metrics_records as rec
from tests.conftest import PASSWORD
from tests.metrics_records import NOW

EN, ZH = {"Accept-Language": "en"}, {"Accept-Language": "zh-CN"}
_PER_REQUEST = re.compile(r'(name="next" value="|name="csrf_token" value="|X-CSRFToken": ")[^"]*')
MARCH = "first=2024-03&last=2024-03"


@pytest.fixture
def world(app, db, make_region, make_dealer):
    """North: dealers a (model M0) and b (M1); south: c (M2); one sale each, aggregates made."""
    return rec.two_regions(app, db, make_region, make_dealer,
                           lambda n, dealer: rec.sale(db, dealer, "2024-03-02", model=f"M{n}"))


def logged_in(app, user):
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.text
    return client


def total_sales(client) -> int:
    page = client.get(f"/rollups/?{MARCH}", headers=EN).text
    return int(re.search(r'data-testid="total-sales"><a [^>]*>(\d+)</a>', page)[1])


def test_rollups_show_a_refresh_made_by_another_process(world, db, engine, make_user, app):
    client = logged_in(app, make_user(Role.hq))
    assert total_sales(client) == 3
    rec.sale(db, world["c"], "2024-03-09")
    db.commit()
    assert total_sales(client) == 3  # the records changed, the aggregates not yet
    rec.refresh_elsewhere(engine)  # same computation time: only the generation tells
    assert total_sales(client) == 4


def test_benchmark_shows_a_refresh_made_by_another_process(world, engine, make_dealer,
                                                           make_user, app):
    client = logged_in(app, make_user(Role.hq))
    newcomer = make_dealer(region=world["south"])
    before = client.get("/benchmark?month=2024-03", headers=EN).text
    assert 'data-testid="ranked-count">3<' in before and newcomer.name_en not in before
    rec.refresh_elsewhere(engine)
    after = client.get("/benchmark?month=2024-03", headers=EN).text
    assert 'data-testid="ranked-count">4<' in after and newcomer.name_en in after


def test_rollups_kept_for_one_scope_never_reach_another(world, make_user, app):
    pages = {}
    for scope in ("hq", "north", "south"):  # each one's figures are kept before the next asks
        user = make_user(Role.hq) if scope == "hq" else \
            make_user(Role.region_manager, region=world[scope])
        pages[scope] = logged_in(app, user).get(f"/rollups/?{MARCH}", headers=EN).text
    shown = {scope: {m for m in ("M0", "M1", "M2") if f">{m}<" in page}
             for scope, page in pages.items()}
    assert shown == {"hq": {"M0", "M1", "M2"}, "north": {"M0", "M1"}, "south": {"M2"}}


def test_benchmark_kept_for_one_region_never_reaches_another(world, make_user, app):
    ranked = {}
    for region in ("north", "south"):
        user = make_user(Role.region_manager, region=world[region])
        page = logged_in(app, user).get("/benchmark?month=2024-03", headers=EN).text
        ranked[region] = {k for k in "abc" if f">{world[k].name_en}</a>" in page}
    assert ranked == {"north": {"a", "b"}, "south": {"c"}}


KEPT_PAGES = (f"/rollups/?{MARCH}", "/benchmark?month=2024-03")


@pytest.mark.parametrize(("path", "label"), [
    (KEPT_PAGES[0], "Sales and repair orders per month"), (KEPT_PAGES[1], "Percentile nationally"),
])
def test_kept_tables_follow_the_language(world, make_user, app, path, label):
    client = logged_in(app, make_user(Role.hq))
    english, chinese, again = (client.get(path, headers=h).text for h in (EN, ZH, EN))
    assert label in english and label not in chinese
    assert load_catalogue("zh_CN").ugettext(label) in chinese
    assert _PER_REQUEST.sub("", again) == _PER_REQUEST.sub("", english)


@pytest.mark.parametrize(("renamed", "shown_as"), [("a", ">Renamed</a>"), ("north", ">Renamed<")])
@pytest.mark.parametrize("path", KEPT_PAGES)
def test_names_on_kept_tables_are_live(world, db, make_user, app, path, renamed, shown_as):
    client = logged_in(app, make_user(Role.hq))
    assert world[renamed].name_en in client.get(path, headers=EN).text  # now kept
    world[renamed].name_en = "Renamed"
    db.add(world[renamed])
    db.commit()
    assert shown_as in client.get(path, headers=EN).text


@pytest.mark.parametrize("path", [f"/rollups/?{MARCH}&page=", "/benchmark?month=2024-03&page="])
def test_each_page_of_kept_tables_is_its_own(world, make_user, app, path):
    app.config["PAGE_SIZE"] = 1
    client = logged_in(app, make_user(Role.hq))
    shown = [{k for k in "abc" if f">{world[k].name_en}</a>" in
              client.get(f"{path}{n}", headers=EN).text} for n in (1, 2, 3, 1)]
    assert all(len(s) == 1 for s in shown) and set().union(*shown) == set("abc")
    assert shown[3] == shown[0]


def test_kept_tables_come_with_each_session_s_own_export_token(world, make_user, app):
    for path in KEPT_PAGES:
        pages = [logged_in(app, make_user(Role.hq)).get(path, headers=EN).text for _ in "12"]
        tokens = [set(re.findall(r'class="export-form">\s*<input type="hidden" '
                                 r'name="csrf_token" value="([^"]+)"', p)) for p in pages]
        assert all(len(t) == 1 for t in tokens) and tokens[0] != tokens[1], path
        assert _PER_REQUEST.sub("", pages[0]) == _PER_REQUEST.sub("", pages[1])


def test_dashboard_of_one_region_never_reaches_another(world, make_user, app):
    counts = {}
    for region in ("north", "south"):
        user = make_user(Role.region_manager, region=world[region])
        page = logged_in(app, user).get("/", headers=EN).text
        counts[region] = re.search(r"All dealers in view \((\d+)\)", page)[1]
    assert counts == {"north": "2", "south": "1"}


def open_leads(client) -> str:
    page = client.get("/", headers=EN).text
    assert 'data-testid="as-of"' in page  # the page says when it counted
    return re.search(r'<span class="value">(\d+)</span><span class="name">Open leads', page)[1]


def test_hq_dashboard_counts_again_once_its_figures_are_old(world, db, make_user, app,
                                                            monkeypatch):
    clock = SimpleNamespace(monotonic=lambda: 1000.0)
    monkeypatch.setattr(metrics, "time", clock)
    client = logged_in(app, make_user(Role.hq))
    assert open_leads(client) == "0"
    rec.lead(db, world["a"], NOW)
    db.commit()
    assert open_leads(client) == "0"  # counted 0 s ago
    clock.monotonic = lambda: 1031.0
    assert open_leads(client) == "1"


def test_memo_computes_once_per_generation_and_keeps_the_newest(db):
    memo, calls = metrics.Memo(size=2), []

    def get(key: str) -> int:
        return memo.get(db, (key,), lambda: calls.append(key) or len(calls))

    assert (get("a"), get("a")) == (1, 1)
    metrics.bump_generation(db)  # what a refresh does, in its transaction
    db.commit()
    assert get("a") == 2
    assert (get("b"), get("a"), get("c")) == (3, 2, 4)  # two kept: "c" pushes out "b"
    assert (get("a"), get("b")) == (2, 5)


@pytest.mark.parametrize("changes", [
    {}, {"first": "2024-01", "last": "2024-01"}, {"region": 3}, {"dealer": 7},
    {"brand": "", "model": ""}, {"brand": "Buick & Co", "model": "GL8 / 2.0T"},
    {"brand": "别克", "model": "君越", "part": "P-1?x=1"}, {"region": None},
])
@pytest.mark.parametrize("filters", [
    rollups.Filters(NOW.date().replace(month=1, day=1), NOW.date().replace(day=1)),
    rollups.Filters(NOW.date().replace(day=1), NOW.date().replace(day=1), region_id=2,
                    brand="Buick", model="GL8"),
])
def test_drill_down_links_are_the_urls_url_for_builds(app, filters, changes):
    with app.test_request_context():
        for endpoint in ("rollups.index", "rollups.sales", "rollups.repairs"):
            assert Links(filters)(endpoint, **changes) == \
                url_for(endpoint, **filters.query(**changes))
